import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { generateSyntheticCatalog } from '../../bench/lib/synthetic-catalog.js'
import { BACKGROUND_MIN_ITEMS, createSearchEngines, type SearchCatalog } from '../../src/search/engines.js'
import { rerankByInnerProduct } from '../../src/search/hybrid.js'
import { exactMipsTopK, itemScore } from '../../src/search/mips/brute-force.js'
import { TopKHeap } from '../../src/search/top-k.js'
import { buildHnswIndex } from '../../src/model-loader/hnsw-index.js'
import { makeCodes, naiveHammingTopK } from './helpers.js'

function catalogOf (items: number, seed: number): SearchCatalog & { queryCodes: Uint32Array, queryVectors: Float32Array } {
  const c = generateSyntheticCatalog({ items, dimension: 16, codeBits: 64, seed, queries: 8 })
  return {
    dimension: 16, codeBits: 64, codeWords: 2, itemCount: items, itemCodes: c.itemCodes, itemVectors: c.itemVectors,
    itemNorms: c.itemNorms, itemBias: null, hnsw: null, queryCodes: c.queryCodes, queryVectors: c.queryVectors,
  }
}

test('TopKHeap keeps the k best by score desc then row asc, equal to a full sort', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 200 }), fc.integer({ min: 0, max: 30 }), (scores, k) => {
    const heap = new TopKHeap(Math.max(1, k))
    heap.reset(k)
    scores.forEach((s, row) => heap.push(row, s))
    const got = heap.drain(0)
    const expected = scores.map((s, row) => [s, row]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k)
    assert.deepEqual([...got.rows], expected.map((x) => x[1]))
    assert.deepEqual([...got.scores], expected.map((x) => x[0]))
  }), { numRuns: 200, seed: 3 })
})

test('hybrid re-ranking orders the Hamming candidates by exact inner product, ties by lower row', () => {
  const dimension = 2
  const items = { itemVectors: new Float32Array([0, 1, 3, 0, 1, 0, 3, 0, 2, 0]), itemBias: null, dimension, itemCount: 5 }
  const candidates = { rows: new Int32Array([4, 3, 0, 1, 2]), scores: new Float32Array(5), candidatesExamined: 5 }
  const got = rerankByInnerProduct(items, candidates, new Float32Array([1, 0]), 3, new TopKHeap(3), new Float64Array(candidates.rows.length))
  assert.deepEqual([...got.rows], [1, 3, 4])
  assert.deepEqual([...got.scores], [3, 3, 2])
})

test('engines on a 40k catalog pick the multi-index tables and answer hamming exactly, with exclusions', () => {
  const catalog = catalogOf(40_000, 2)
  const engines = createSearchEngines(catalog)
  assert.equal(engines.info.hamming.structure, 'multi-index')
  assert.equal(engines.info.hamming.m, 4)
  assert.equal(engines.info.mips.structure, 'exact')
  const set = { codes: catalog.itemCodes, codeWords: 2, count: catalog.itemCount, queries: catalog.queryCodes }
  for (let q = 0; q < 4; q++) {
    const code = catalog.queryCodes.subarray(q * 2, q * 2 + 2)
    const exclude = new Set(naiveHammingTopK(set, code, 5).rows)
    const got = engines.hamming(code, { k: 10, exclude })
    assert.deepEqual([...got.rows], naiveHammingTopK(set, code, 10, exclude).rows)
  }
})

test('engines hybrid returns the top-k of the Hamming top-C by exact score, and mips matches the exact oracle', () => {
  const catalog = catalogOf(3000, 4)
  const engines = createSearchEngines(catalog)
  const items = { itemVectors: catalog.itemVectors, itemBias: null, dimension: 16, itemCount: 3000 }
  for (let q = 0; q < 4; q++) {
    const code = catalog.queryCodes.subarray(q * 2, q * 2 + 2)
    const vector = catalog.queryVectors.subarray(q * 16, q * 16 + 16)
    const pool = engines.hamming(code, { k: 50 })
    const expected = [...pool.rows].map((row) => [itemScore(items, row, vector), row]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 10).map((x) => x[1])
    assert.deepEqual([...engines.hybrid(code, vector, { k: 10, candidates: 50 }).rows], expected)
    assert.deepEqual([...engines.mips(vector, { k: 10 }).rows], [...exactMipsTopK(items, vector, 10, undefined).rows])
  }
})

test('engines hybrid on a tabled catalog: codesPerCandidate 0 and a generous bound give the exact Hamming top-C re-ranked; a tight bound stays valid and is counted', () => {
  const catalog = catalogOf(40_000, 2)
  const items = { itemVectors: catalog.itemVectors, itemBias: null, dimension: 16, itemCount: catalog.itemCount }
  const exact = createSearchEngines(catalog, { hybridCodesPerCandidate: 0 })
  const generous = createSearchEngines(catalog, { hybridCodesPerCandidate: 1e6, tableBudgetFraction: 1e6 })
  const tight = createSearchEngines(catalog, { hybridCodesPerCandidate: 1 })
  assert.equal(exact.info.hamming.structure, 'multi-index')
  for (let q = 0; q < 6; q++) {
    const code = catalog.queryCodes.subarray(q * 2, q * 2 + 2)
    const vector = catalog.queryVectors.subarray(q * 16, q * 16 + 16)
    const exclude = new Set([...exact.hamming(code, { k: 3 }).rows])
    const pool = exact.hamming(code, { k: 100, exclude })
    const expected = [...pool.rows].map((row) => [itemScore(items, row, vector), row]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 10).map((x) => x[1])
    assert.deepEqual([...exact.hybrid(code, vector, { k: 10, candidates: 100, exclude }).rows], expected)
    assert.deepEqual([...generous.hybrid(code, vector, { k: 10, candidates: 100, exclude }).rows], expected)
    const got = tight.hybrid(code, vector, { k: 10, candidates: 100, exclude })
    assert.equal(got.rows.length, 10)
    assert.equal(new Set(got.rows).size, 10)
    got.rows.forEach((row, i) => {
      assert.ok(!exclude.has(row))
      assert.equal(got.scores[i], Math.fround(itemScore(items, row, vector)))
      if (i > 0) assert.ok(got.scores[i] <= got.scores[i - 1])
    })
  }
  assert.equal(exact.stats.hybridQueries, 0, 'the exact setting never takes the bounded path')
  assert.equal(generous.stats.hybridBounded, 0, 'a generous bound is never reached')
  assert.equal(tight.stats.hybridQueries, 6)
  assert.ok(tight.stats.hybridBounded > 0, 'one code per candidate cuts clustered queries short')
})

test('engines hybrid in bounded mode hands a sparse neighbourhood (probe budget exhausted) to the exact scan', () => {
  const c = generateSyntheticCatalog({ items: 40_000, dimension: 16, codeBits: 64, seed: 12, queries: 6, uniformCodes: true })
  const catalog = { dimension: 16, codeBits: 64 as const, codeWords: 2, itemCount: 40_000, itemCodes: c.itemCodes, itemVectors: c.itemVectors, itemNorms: c.itemNorms, itemBias: null, hnsw: null }
  const bounded = createSearchEngines(catalog, { hybridCodesPerCandidate: 8 })
  const exact = createSearchEngines(catalog, { hybridCodesPerCandidate: 0, hammingTables: false })
  for (let q = 0; q < 6; q++) {
    const code = c.queryCodes.subarray(q * 2, q * 2 + 2)
    const vector = c.queryVectors.subarray(q * 16, q * 16 + 16)
    assert.deepEqual([...bounded.hybrid(code, vector, { k: 10, candidates: 100 }).rows], [...exact.hybrid(code, vector, { k: 10, candidates: 100 }).rows])
  }
  assert.equal(bounded.stats.hybridBounded, 0, 'uniform codes run out of probes, not entries')
  assert.ok(bounded.stats.tableFallbacks > 0)
})

test('engines on an empty catalog return empty results for every method', () => {
  const engines = createSearchEngines({ dimension: 4, codeBits: 32, codeWords: 1, itemCount: 0, itemCodes: new Uint32Array(0), itemVectors: new Float32Array(0), itemNorms: new Float32Array(0), itemBias: null, hnsw: null })
  assert.equal(engines.hamming(new Uint32Array(1), { k: 5 }).rows.length, 0)
  assert.equal(engines.mips(new Float32Array(4), { k: 5 }).rows.length, 0)
  assert.equal(engines.hybrid(new Uint32Array(1), new Float32Array(4), { k: 5 }).rows.length, 0)
})

test('engines with k larger than the catalog return every non-excluded item', () => {
  const catalog = catalogOf(50, 6)
  const engines = createSearchEngines(catalog)
  const exclude = new Set([1, 2, 3])
  const code = catalog.queryCodes.subarray(0, 2)
  const vector = catalog.queryVectors.subarray(0, 16)
  assert.equal(engines.hamming(code, { k: 500, exclude }).rows.length, 47)
  assert.equal(engines.mips(vector, { k: 500, exclude }).rows.length, 47)
  assert.equal(engines.hybrid(code, vector, { k: 500, exclude }).rows.length, 47)
})

test('engines above the exact-MIPS threshold with an HNSW index use it, with the space default ef, and return exact scores', () => {
  const items = 5000
  const c = generateSyntheticCatalog({ items, dimension: 8, codeBits: 32, seed: 8, queries: 20 })
  const built = buildHnswIndex({ vectors: c.itemVectors, count: items, dimension: 8, bias: null }, { space: 'l2-mips', M: 16, efConstruction: 100, efSearch: 10, randomSeed: 100 })
  const hnsw = { index: built.index, indexDimension: built.indexDimension, space: 'l2-mips' as const, maxNorm: built.maxNorm, source: 'built' as const, buildMs: 1 }
  const engines = createSearchEngines({ dimension: 8, codeBits: 32, codeWords: 1, itemCount: items, itemCodes: c.itemCodes, itemVectors: c.itemVectors, itemNorms: c.itemNorms, itemBias: null, hnsw })
  assert.equal(engines.info.mips.structure, 'hnsw')
  assert.equal(engines.info.mips.defaultEf, 128)
  const exactItems = { itemVectors: c.itemVectors, itemBias: null, dimension: 8, itemCount: items }
  let hits = 0
  for (let q = 0; q < 20; q++) {
    const vector = c.queryVectors.subarray(q * 8, q * 8 + 8)
    const got = engines.mips(vector, { k: 10 })
    const exact = new Set(exactMipsTopK(exactItems, vector, 10, undefined).rows)
    hits += [...got.rows].filter((r) => exact.has(r)).length
    got.rows.forEach((row, i) => assert.equal(got.scores[i], Math.fround(itemScore(exactItems, row, vector))))
  }
  assert.ok(hits / 200 >= 0.9, `recall ${hits / 200}`)
})

test('engines with backgroundBuild build large tables in slices: exact answers from the scan meanwhile, the tables after whenReady', async () => {
  const count = BACKGROUND_MIN_ITEMS + 5000
  const set = makeCodes('clustered', 64, count, 17, 8)
  const vectors = new Float32Array(count * 4)
  const catalog: SearchCatalog = { itemCount: count, codeWords: 2, codeBits: 64, itemCodes: set.codes, itemVectors: vectors, itemNorms: new Float32Array(count), itemBias: null, dimension: 4, hnsw: null }
  const engines = createSearchEngines(catalog, { backgroundBuild: true })
  assert.equal(engines.info.hamming.structure, 'linear', 'tables not built yet')
  let turns = 0
  const spin = (): void => { if (engines.info.hamming.structure === 'linear') { turns++; setImmediate(spin) } }
  setImmediate(spin)
  const query = set.queries.subarray(0, 2)
  const expected = naiveHammingTopK(set, query, 10).rows
  assert.deepEqual([...engines.hamming(query, { k: 10 }).rows], expected)
  await engines.whenReady
  assert.equal(engines.info.hamming.structure, 'multi-index')
  assert.ok(turns >= 5, `the build yielded ${turns} times`)
  assert.deepEqual([...engines.hamming(query, { k: 10 }).rows], expected)
  assert.ok(engines.stats.tableQueries > 0)
  // Without the option the same catalog's tables are there at once.
  assert.equal(createSearchEngines(catalog).info.hamming.structure, 'multi-index')
})
