import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { createRng } from '../../../bench/lib/synthetic-catalog.js'
import { createHybridReranker } from '../../../src/search/hybrid.js'
import { createInt8Prefilter, simdSupported } from '../../../src/search/mips/int8-prefilter.js'
import type { TopK } from '../../../src/search/types.js'

const arbCase = fc.record({
  count: fc.integer({ min: 1, max: 600 }),
  dimension: fc.constantFrom(1, 3, 16, 17, 64, 100),
  bias: fc.boolean(),
  k: fc.integer({ min: 1, max: 50 }),
  candidates: fc.integer({ min: 1, max: 400 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  // Items that are copies of one another, scaled copies and zero vectors: exact ties and near-ties.
  duplicates: fc.constantFrom(0, 0.3),
  outlier: fc.boolean(),
})

function catalog (count: number, dimension: number, seed: number, duplicates: number, outlier: boolean, bias: boolean): { vectors: Float32Array, bias: Float32Array | null, queries: Float32Array } {
  const rng = createRng(seed)
  const vectors = new Float32Array(count * dimension)
  for (let i = 0; i < vectors.length; i++) vectors[i] = rng.normal()
  for (let i = 1; i < count; i++) {
    if (rng.float() >= duplicates) continue
    const src = rng.u32() % i
    const kind = rng.u32() % 3
    for (let j = 0; j < dimension; j++) vectors[i * dimension + j] = kind === 0 ? vectors[src * dimension + j] : kind === 1 ? vectors[src * dimension + j] * 1.0000001 : 0
  }
  // One huge coordinate widens that dimension's scale: the bound must still hold.
  if (outlier) vectors[(rng.u32() % count) * dimension] = 1e4
  const b = bias ? Float32Array.from({ length: count }, () => rng.normal() * 3) : null
  const queries = Float32Array.from({ length: 4 * dimension }, () => rng.normal())
  return { vectors, bias: b, queries }
}

test('WebAssembly SIMD is available on this Node (the prefilter is not silently off in CI)', () => {
  assert.equal(simdSupported(), true)
})

test('the int8 prefilter re-rank equals the exact re-rank bit for bit: rows, scores and ties, with biases, duplicates and outliers', () => {
  fc.assert(fc.property(arbCase, ({ count, dimension, bias, k, candidates, seed, duplicates, outlier }) => {
    const c = catalog(count, dimension, seed, duplicates, outlier, bias)
    const items = { itemVectors: c.vectors, itemBias: c.bias, dimension, itemCount: count }
    const exact = createHybridReranker(items, false)
    const filtered = createHybridReranker(items, true)
    const rng = createRng(seed + 1)
    const n = Math.min(candidates, count)
    const rows = new Int32Array(n)
    // Distinct candidate rows in a random order.
    const perm = Int32Array.from({ length: count }, (_, i) => i)
    for (let i = 0; i < n; i++) { const j = i + (rng.u32() % (count - i)); [perm[i], perm[j]] = [perm[j], perm[i]]; rows[i] = perm[i] }
    const cand: TopK = { rows, scores: new Float32Array(n), candidatesExamined: 7 }
    for (let q = 0; q < 4; q++) {
      const query = c.queries.subarray(q * dimension, (q + 1) * dimension)
      const a = exact(cand, query, k)
      const b = filtered(cand, query, k)
      assert.deepEqual([...b.rows], [...a.rows])
      assert.deepEqual([...b.scores], [...a.scores])
      assert.equal(b.candidatesExamined, a.candidatesExamined)
    }
  }), { numRuns: 150, seed: 11 })
})

test('the prefilter re-scores few candidates on spread-out scores, and rows it drops score below the k-th best', () => {
  const count = 5000
  const dimension = 64
  const c = catalog(count, dimension, 5, 0, false, false)
  const items = { itemVectors: c.vectors, itemBias: null, dimension, itemCount: count }
  const filter = createInt8Prefilter(items, 1000)!
  const rows = Int32Array.from({ length: 200 }, (_, i) => i * 25)
  const out = new Int32Array(200)
  const scores = new Float64Array(200)
  const query = c.queries.subarray(0, dimension)
  const n = filter.filter(rows, 200, query, 10, out, scores)
  assert.ok(n >= 10 && n < 120, `re-scored ${n} of 200`)
  const dot = (row: number): number => { let s = 0; for (let j = 0; j < dimension; j++) s += c.vectors[row * dimension + j] * query[j]; return s }
  const exactScores = [...rows].map(dot).sort((x, y) => y - x)
  const kept = new Set(out.subarray(0, n))
  for (const row of rows) if (!kept.has(row)) assert.ok(dot(row) < exactScores[9])
})

test('the prefilter refuses more candidates than it was sized for', () => {
  const c = catalog(10, 4, 1, 0, false, false)
  const filter = createInt8Prefilter({ itemVectors: c.vectors, itemBias: null, dimension: 4, itemCount: 10 }, 5)!
  assert.throws(() => filter.filter(new Int32Array(6), 6, c.queries.subarray(0, 4), 2, new Int32Array(6), new Float64Array(6)), /at most 5/)
})

test('a catalog too large for its WebAssembly memory gets no prefilter (the re-rank scores from float32)', () => {
  const c = catalog(100, 8, 2, 0, false, false)
  const items = { itemVectors: c.vectors, itemBias: null, dimension: 8, itemCount: 100 }
  assert.equal(createInt8Prefilter(items, 50, 1024), null)
  assert.notEqual(createInt8Prefilter(items, 50), null)
})

test('a large catalog builds its int8 copy in slices that yield to the event loop; until then the re-rank reads floats, with the same results', async () => {
  const count = 3000
  const c = catalog(count, 16, 9, 0, false, true)
  const items = { itemVectors: c.vectors, itemBias: c.bias, dimension: 16, itemCount: count }
  const exact = createHybridReranker(items, false)
  const rows = Int32Array.from({ length: 400 }, (_, i) => (i * 7) % count)
  const cand: TopK = { rows, scores: new Float32Array(400), candidatesExamined: 0 }
  const sliced = createHybridReranker(items, true, 256)
  assert.equal(sliced.prefilter, true)
  assert.equal(sliced.prefilterReady, false)
  // Event-loop turns taken between slices: 3000 rows in slices of 256, two passes.
  let turns = 0
  const spin = (): void => { if (!sliced.prefilterReady) { turns++; setImmediate(spin) } }
  setImmediate(spin)
  for (let q = 0; q < 4; q++) {
    const query = c.queries.subarray(q * 16, (q + 1) * 16)
    assert.deepEqual([...sliced(cand, query, 5).rows], [...exact(cand, query, 5).rows], 'before the copy is ready')
  }
  await sliced.whenReady
  assert.equal(sliced.prefilterReady, true)
  assert.ok(turns >= 10, `the build yielded ${turns} times`)
  for (let q = 0; q < 4; q++) {
    const query = c.queries.subarray(q * 16, (q + 1) * 16)
    const a = exact(cand, query, 5)
    const b = sliced(cand, query, 5)
    assert.deepEqual([...b.rows], [...a.rows], 'after')
    assert.deepEqual([...b.scores], [...a.scores])
  }
  const raw = createInt8Prefilter(items, 500, undefined, 256)!
  assert.equal(raw.ready, false)
  assert.throws(() => raw.filter(rows, 1, c.queries.subarray(0, 16), 1, new Int32Array(1), new Float64Array(1)), /still being built/)
  await raw.whenReady
})
