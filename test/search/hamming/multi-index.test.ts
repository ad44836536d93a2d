import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { createLinearHammingScan } from '../../../src/search/hamming/linear-scan.js'
import { createMultiIndexHamming, defaultSubstringCount, selectSmallest } from '../../../src/search/hamming/multi-index.js'
import { makeCodes, naiveHammingTopK } from '../helpers.js'

const arbCase = fc.record({
  kind: fc.constantFrom('random' as const, 'clustered' as const),
  codeBits: fc.constantFrom(32, 64, 128),
  count: fc.integer({ min: 1, max: 1500 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  k: fc.integer({ min: 1, max: 40 }),
  m: fc.option(fc.integer({ min: 2, max: 8 }), { nil: undefined }),
  excludeShare: fc.constantFrom(0, 0, 0.01, 0.3),
})

test('multi-index top-K equals the linear scan and the naive sort, ties included, on random and clustered codes of 32, 64 and 128 bits', () => {
  fc.assert(fc.property(arbCase, ({ kind, codeBits, count, seed, k, m, excludeShare }) => {
    const set = makeCodes(kind, codeBits, count, seed)
    const exclude = new Set<number>()
    for (let row = 0; row < count; row += 1) if (((row * 2654435761) >>> 0) % 1000 < excludeShare * 1000) exclude.add(row)
    const linear = createLinearHammingScan(set.codes, set.codeWords, count)
    const mih = createMultiIndexHamming(set.codes, set.codeWords, count, { m: Math.max(m ?? defaultSubstringCount(codeBits, count), Math.ceil(codeBits / 22)), budgetFraction: 1e9 })
    for (let q = 0; q < 4; q++) {
      const query = set.queries.subarray(q * set.codeWords, (q + 1) * set.codeWords)
      const expected = naiveHammingTopK(set, query, k, exclude)
      const fromTables = mih.search(query, k, exclude)
      const fromScan = linear.search(query, k, exclude)
      assert.ok(fromTables !== null, 'an unlimited budget never gives up')
      assert.deepEqual([...fromScan.rows], expected.rows)
      assert.deepEqual([...fromScan.scores], expected.scores)
      assert.deepEqual([...fromTables.rows], expected.rows)
      assert.deepEqual([...fromTables.scores], expected.scores)
    }
  }), { numRuns: 60, seed: 42 })
})

test('linear scan when k exceeds the catalog returns every item, nearest first', () => {
  const set = makeCodes('random', 64, 7, 3)
  const scan = createLinearHammingScan(set.codes, 2, 7)
  const result = scan.search(set.queries.subarray(0, 2), 50)
  assert.equal(result.rows.length, 7)
  assert.deepEqual([...result.rows], naiveHammingTopK(set, set.queries.subarray(0, 2), 50).rows)
})

test('linear scan in auto mode moves to two passes when the radius pass writes out many rows, keeps retrying the radius pass, and answers exactly throughout', () => {
  const set = makeCodes('random', 64, 2000, 12, 40)
  const scan = createLinearHammingScan(set.codes, 2, 2000)
  const passes: string[] = []
  for (let i = 0; i < 120; i++) {
    const q = i % 40
    const query = set.queries.subarray(q * 2, q * 2 + 2)
    // k = 300 of 2,000 uniform codes: the radius stays wide, most rows are written out.
    assert.deepEqual([...scan.search(query, 300).rows], naiveHammingTopK(set, query, 300).rows)
    passes.push(scan.lastPass)
  }
  assert.equal(passes[0], 'radius')
  assert.ok(passes.slice(40).filter((p) => p === 'two-pass').length > 60, 'settles on two passes')
  assert.ok(passes.slice(40).includes('radius'), 'and still retries the radius pass')
})

test('two-pass linear scan when k exceeds the catalog returns every item not excluded, nearest first', () => {
  const set = makeCodes('random', 64, 9, 8)
  const scan = createLinearHammingScan(set.codes, 2, 9, { mode: 'two-pass' })
  const query = set.queries.subarray(0, 2)
  assert.deepEqual([...scan.search(query, 50, new Set([3, 4])).rows], naiveHammingTopK(set, query, 50, new Set([3, 4])).rows)
  assert.equal(scan.search(query, 50).rows.length, 9)
})

test('multi-index when k exceeds the catalog returns every item, nearest first', () => {
  const set = makeCodes('clustered', 64, 9, 4)
  const mih = createMultiIndexHamming(set.codes, 2, 9, { m: 4, budgetFraction: 1e9 })
  const result = mih.search(set.queries.subarray(0, 2), 20)
  assert.ok(result)
  assert.deepEqual([...result.rows], naiveHammingTopK(set, set.queries.subarray(0, 2), 20).rows)
})

test('empty catalog returns no rows from either structure', () => {
  const empty = new Uint32Array(0)
  const query = new Uint32Array(2)
  assert.equal(createLinearHammingScan(empty, 2, 0).search(query, 10).rows.length, 0)
  assert.equal(createMultiIndexHamming(empty, 2, 0, { m: 4 }).search(query, 10)?.rows.length, 0)
})

test('exclusions never shrink the result below k while enough items remain', () => {
  const set = makeCodes('clustered', 64, 2000, 11)
  const query = set.queries.subarray(0, 2)
  const nearest = naiveHammingTopK(set, query, 100).rows
  const exclude = new Set(nearest.slice(0, 60))
  const mih = createMultiIndexHamming(set.codes, 2, 2000, { budgetFraction: 1e9 })
  const scan = createLinearHammingScan(set.codes, 2, 2000)
  for (const result of [mih.search(query, 10, exclude), scan.search(query, 10, exclude)]) {
    assert.ok(result)
    assert.equal(result.rows.length, 10)
    assert.ok([...result.rows].every((row) => !exclude.has(row)))
    assert.deepEqual([...result.rows], naiveHammingTopK(set, query, 10, exclude).rows)
  }
})

test('the WebAssembly search loop and the JavaScript loop agree exactly: rows, scores, null, lastExact and lastWork, bounded or not', () => {
  fc.assert(fc.property(arbCase, fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }), fc.constantFrom(1 / 64, 1e9), ({ kind, codeBits, count, seed, k, m, excludeShare }, maxCodes, budgetFraction) => {
    const set = makeCodes(kind, codeBits, count, seed)
    const exclude = new Set<number>()
    for (let row = 0; row < count; row += 1) if (((row * 2654435761) >>> 0) % 1000 < excludeShare * 1000) exclude.add(row)
    const options = { m: Math.max(m ?? defaultSubstringCount(codeBits, count), Math.ceil(codeBits / 22)), budgetFraction }
    const js = createMultiIndexHamming(set.codes, set.codeWords, count, { ...options, kernel: 'js' })
    const wasm = createMultiIndexHamming(set.codes, set.codeWords, count, { ...options, kernel: 'wasm' })
    for (let q = 0; q < 4; q++) {
      const query = set.queries.subarray(q * set.codeWords, (q + 1) * set.codeWords)
      const a = js.search(query, k, exclude, maxCodes)
      const unordered = wasm.search(query, k, exclude, maxCodes, false)
      const b = wasm.search(query, k, exclude, maxCodes)
      assert.equal(unordered === null, b === null)
      if (unordered !== null && b !== null) {
        assert.deepEqual([...unordered.rows].sort((x, y) => x - y), [...b.rows].sort((x, y) => x - y), 'unordered: the same rows')
        assert.deepEqual([...unordered.scores], [...b.scores], 'unordered: still by distance')
      }
      assert.equal(b === null, a === null)
      if (a !== null && b !== null) {
        assert.deepEqual([...b.rows], [...a.rows])
        assert.deepEqual([...b.scores], [...a.scores])
        assert.equal(b.candidatesExamined, a.candidatesExamined)
      }
      assert.equal(wasm.lastExact, js.lastExact)
      assert.equal(wasm.lastWork, js.lastWork)
    }
  }), { numRuns: 80, seed: 3 })
})

test('linear scan, radius and two-pass: listed exclusions are skipped inside the scan, unlisted ones by over-fetching, and nothing leaks into the next query', () => {
  fc.assert(fc.property(arbCase, ({ kind, codeBits, count, seed, k, excludeShare }) => {
    const set = makeCodes(kind, codeBits, count, seed)
    const listed = new Set<number>()
    for (let row = 0; row < count; row += 1) if (((row * 2654435761) >>> 0) % 1000 < Math.max(0.05, excludeShare) * 1000) listed.add(row)
    // Rows outside the catalog are ignored, not written past the bitmap.
    const withStrays = new Set([...listed, -1, count, count + 9])
    const unlisted = { has: (row: number) => listed.has(row), size: listed.size }
    for (const mode of ['radius', 'two-pass'] as const) {
      const scan = createLinearHammingScan(set.codes, set.codeWords, count, { mode })
      for (let q = 0; q < 4; q++) {
        const query = set.queries.subarray(q * set.codeWords, (q + 1) * set.codeWords)
        const expected = naiveHammingTopK(set, query, k, listed)
        const got = scan.search(query, k, withStrays)
        assert.deepEqual([...got.rows], expected.rows, mode)
        assert.deepEqual([...got.scores], expected.scores, mode)
        assert.deepEqual([...scan.search(query, k, unlisted).rows], expected.rows, mode)
        assert.deepEqual([...scan.search(query, k).rows], naiveHammingTopK(set, query, k).rows, `${mode}: the bitmap is clear after an excluding query`)
      }
    }
  }), { numRuns: 40, seed: 7 })
})

test('linear scan clears a few excluded rows one by one on a large catalog', () => {
  const set = makeCodes('clustered', 64, 20_000, 13)
  const scan = createLinearHammingScan(set.codes, 2, 20_000)
  const query = set.queries.subarray(0, 2)
  const nearest = naiveHammingTopK(set, query, 3).rows
  const exclude = new Set(nearest)
  assert.deepEqual([...scan.search(query, 10, exclude).rows], naiveHammingTopK(set, query, 10, exclude).rows)
  assert.deepEqual([...scan.search(query, 3).rows], nearest)
})

test('multi-index gives up (null) when the work budget is exceeded, and never returns a partial answer', () => {
  const set = makeCodes('random', 64, 5000, 5)
  const mih = createMultiIndexHamming(set.codes, 2, 5000, { m: 4, budgetFraction: 0 })
  // A random query's 10th neighbour is ~17 bits away: far more than 256 probes of 16-bit tables.
  assert.equal(mih.search(set.queries.subarray(2, 4), 10), null)
})

test('bounded mode (maxCodes) returns the true distances of a best-K among reached items (null only when cut short before K), exact when it finishes', () => {
  fc.assert(fc.property(arbCase, fc.integer({ min: 1, max: 400 }), ({ kind, codeBits, count, seed, k, excludeShare }, maxCodes) => {
    const set = makeCodes(kind, codeBits, count, seed)
    const exclude = new Set<number>()
    for (let row = 0; row < count; row += 1) if (((row * 2654435761) >>> 0) % 1000 < excludeShare * 1000) exclude.add(row)
    const mih = createMultiIndexHamming(set.codes, set.codeWords, count, { m: Math.max(defaultSubstringCount(codeBits, count), Math.ceil(codeBits / 22)), budgetFraction: 1e9 })
    const query = set.queries.subarray(0, set.codeWords)
    const got = mih.search(query, k, exclude, maxCodes)
    if (got === null) {
      assert.ok(!mih.lastExact, 'null only when cut short')
      return
    }
    const exact = naiveHammingTopK(set, query, count, exclude)
    const scoreOf = new Map(exact.rows.map((row, i) => [row, exact.scores[i]]))
    assert.ok(got.rows.length <= Math.min(k, count - exclude.size))
    assert.equal(new Set(got.rows).size, got.rows.length, 'no row twice')
    for (let i = 0; i < got.rows.length; i++) {
      assert.ok(!exclude.has(got.rows[i]), 'excluded rows never come back')
      assert.equal(got.scores[i], scoreOf.get(got.rows[i]), 'scores are the true codeBits - 2d')
      if (i > 0) assert.ok(got.scores[i] < got.scores[i - 1] || (got.scores[i] === got.scores[i - 1] && got.rows[i] > got.rows[i - 1]), 'ranked by distance, then row')
    }
    // Finished within the bound: exactly the exact answer.
    if (mih.lastExact) assert.deepEqual([...got.rows], exact.rows.slice(0, k))
  }), { numRuns: 80, seed: 7 })
})

test('bounded mode with a generous bound equals the exact search', () => {
  const set = makeCodes('clustered', 64, 3000, 19)
  const mih = createMultiIndexHamming(set.codes, 2, 3000, { budgetFraction: 1e9 })
  for (let q = 0; q < 8; q++) {
    const query = set.queries.subarray(q * 2, q * 2 + 2)
    const exact = mih.search(query, 50)!
    const bounded = mih.search(query, 50, undefined, 1e9)!
    assert.ok(mih.lastExact)
    assert.deepEqual([...bounded.rows], [...exact.rows])
  }
})

test('defaultSubstringCount follows b / log2 N and keeps substrings within the table size limit', () => {
  assert.equal(defaultSubstringCount(64, 1_000_000), 3)
  assert.equal(defaultSubstringCount(128, 1_000_000), 6)
  assert.equal(defaultSubstringCount(32, 2), 32)
  assert.equal(defaultSubstringCount(64, 2 ** 40), 3)
})

test('m outside [1, codeBits] or substrings wider than 22 bits are refused', () => {
  const codes = new Uint32Array(4)
  assert.throws(() => createMultiIndexHamming(codes, 2, 2, { m: 0 }), RangeError)
  assert.throws(() => createMultiIndexHamming(codes, 2, 2, { m: 2 }), /22/)
})

test('selectSmallest puts the n smallest of a range first and leaves the rest of the array alone', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 300 }), fc.nat(), fc.nat(), fc.nat(), (values, a, b, c) => {
    const arr = Int32Array.from(values)
    const lo = a % arr.length
    const hi = lo + 1 + (b % (arr.length - lo))
    const n = 1 + (c % (hi - lo))
    const before = arr.slice()
    selectSmallest(arr, lo, hi, n)
    assert.deepEqual([...arr.subarray(lo, lo + n)].sort((x, y) => x - y), [...before.subarray(lo, hi)].sort((x, y) => x - y).slice(0, n))
    assert.deepEqual([...arr.subarray(lo, hi)].sort((x, y) => x - y), [...before.subarray(lo, hi)].sort((x, y) => x - y))
    assert.deepEqual([...arr.subarray(0, lo)], [...before.subarray(0, lo)])
    assert.deepEqual([...arr.subarray(hi)], [...before.subarray(hi)])
  }), { numRuns: 300, seed: 5 })
})

test('tables too large for the kernel memory limit stay in plain arrays and answer through the JavaScript loop', () => {
  const set = makeCodes('clustered', 64, 3000, 21)
  const small = createMultiIndexHamming(set.codes, 2, 3000, { m: 4, budgetFraction: 1e9, maxKernelMemoryBytes: 1024 })
  const query = set.queries.subarray(0, 2)
  assert.equal(small.kernel, 'js')
  assert.equal(createMultiIndexHamming(set.codes, 2, 3000, { m: 4 }).kernel, 'wasm')
  assert.deepEqual([...small.search(query, 15)!.rows], naiveHammingTopK(set, query, 15).rows)
  assert.ok(small.memoryBytes > 0)
})
