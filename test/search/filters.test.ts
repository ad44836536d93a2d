/**
 * Filters inside the search, every path against the obvious definition: the exact ranking of the
 * eligible rows that are not excluded. Paths are forced through the engines' options (row lists,
 * the bitmap in the linear scan and the multi-index tables, the subset scan, exact and HNSW MIPS).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { generateSyntheticCatalog, createRng } from '../../bench/lib/synthetic-catalog.js'
import { createSearchEngines, type SearchCatalog, type SearchEngineOptions } from '../../src/search/engines.js'
import { createExclusionBitmap } from '../../src/search/hamming/exclusion-bitmap.js'
import { buildHnswIndex } from '../../src/model-loader/hnsw-index.js'
import { itemScore } from '../../src/search/mips/brute-force.js'
import { RowFilter } from '../../src/search/row-filter.js'
import type { ExcludeSet } from '../../src/search/types.js'
import { naiveHammingTopK } from './helpers.js'

interface Fixture extends SearchCatalog { readonly queryCodes: Uint32Array, readonly queryVectors: Float32Array }

function catalogOf (items: number, seed: number, uniformCodes = false): Fixture {
  const c = generateSyntheticCatalog({ items, dimension: 8, codeBits: 64, seed, queries: 6, clusters: Math.max(1, Math.round(Math.sqrt(items) / 3)), uniformCodes })
  return { dimension: 8, codeBits: 64, codeWords: 2, itemCount: items, itemCodes: c.itemCodes, itemVectors: c.itemVectors, itemNorms: c.itemNorms, itemBias: null, hnsw: null, queryCodes: c.queryCodes, queryVectors: c.queryVectors }
}

/** A seeded filter passing about `share` of the rows. */
function filterOf (itemCount: number, share: number, seed: number): RowFilter {
  const rng = createRng(seed)
  const rows: number[] = []
  for (let r = 0; r < itemCount; r++) if (rng.float() < share) rows.push(r)
  return RowFilter.fromBits(RowFilter.fromRows(rows, itemCount).bits.slice(), itemCount)
}

/** The exclusions as the recommender passes them (a set that lists its rows), or one that cannot list them. */
function excludeOf (rows: number[], listed: boolean): ExcludeSet {
  const set = new Set(rows)
  return listed ? set : { has: (r) => set.has(r), size: set.size }
}

const naiveMips = (c: Fixture, q: Float32Array, k: number, eligible: (row: number) => boolean): number[] => {
  const items = { itemVectors: c.itemVectors, itemBias: c.itemBias, dimension: c.dimension, itemCount: c.itemCount }
  const all: Array<[number, number]> = []
  for (let r = 0; r < c.itemCount; r++) if (eligible(r)) all.push([itemScore(items, r, q), r])
  all.sort((a, b) => b[0] - a[0] || a[1] - b[1])
  return all.slice(0, k).map((x) => x[1])
}

test('RowFilter: bits, rows, has, and, complementInto agree with a plain set', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.array(fc.integer({ min: -5, max: 310 })), fc.array(fc.integer({ min: 0, max: 299 })), (n, rowsA, rowsB) => {
    const setA = new Set(rowsA.filter((r) => r >= 0 && r < n))
    const setB = new Set(rowsB.filter((r) => r < n))
    const a = RowFilter.fromRows(rowsA, n)
    const b = RowFilter.fromBits(RowFilter.fromRows(rowsB, n).bits.slice(), n)
    assert.equal(a.count, setA.size)
    assert.deepEqual([...a.rows], [...setA].sort((x, y) => x - y))
    assert.deepEqual([...RowFilter.fromBits(a.bits.slice(), n).rows], [...a.rows])
    for (let r = -1; r <= n; r++) assert.equal(a.has(r), setA.has(r), `row ${r}`)
    const both = [...setA].filter((r) => setB.has(r)).sort((x, y) => x - y)
    assert.deepEqual([...a.and(b).rows], both)
    assert.deepEqual([...b.and(RowFilter.fromBits(a.bits.slice(), n)).rows], both)
    const target = new Uint8Array(((n + 7) >> 3) + 3).subarray(1, 1 + ((n + 7) >> 3))
    b.complementInto(target)
    for (let r = 0; r < n; r++) assert.equal(((target[r >> 3] >> (r & 7)) & 1) === 1, !setB.has(r), `complement row ${r}`)
  }), { numRuns: 200, seed: 5 })
})

test('the exclusion bitmap keeps the last filter as its base: marks and clears restore it, a new filter rewrites it', () => {
  const n = 77
  const bits = new Uint8Array((n + 7) >> 3)
  const bitmap = createExclusionBitmap(bits, n)
  const skipped = (): number[] => [...Array(n).keys()].filter((r) => ((bits[r >> 3] >> (r & 7)) & 1) === 1)
  const f = RowFilter.fromRows([1, 2, 40, 76], n)
  bitmap.base(f)
  const outside = [...Array(n).keys()].filter((r) => !f.has(r))
  assert.deepEqual(skipped(), outside)
  const exclude = new Set([2, 5, 76])
  assert.equal(bitmap.mark(exclude), true)
  assert.deepEqual(skipped(), [...new Set([...outside, 2, 76])].sort((a, b) => a - b))
  bitmap.clear(exclude)
  assert.deepEqual(skipped(), outside, 'clear restores the filter, not zero')
  bitmap.base(undefined)
  assert.deepEqual(skipped(), [])
})

const PATHS: Record<string, SearchEngineOptions> = {
  'row list': { rowListMax: 1e9, hammingTables: false },
  'linear scan bitmap': { rowListMax: 0, hammingTables: false },
  'multi-index tables': { rowListMax: 0, subsetMaxShare: 0, hammingTables: true, m: 4, tableBudgetFraction: 1e6 },
  'tables giving up to the scan': { rowListMax: 0, subsetMaxShare: 0, hammingTables: true, m: 3, tableBudgetFraction: 1e-9 },
  'tables giving up to the subset scan': { rowListMax: 0, subsetMaxShare: 1.01, hammingTables: true, m: 3, tableBudgetFraction: 1e-9 },
}

test('hamming under a filter: every path returns the exact top-k of the eligible rows that are not excluded, listed or not', () => {
  for (const [name, options] of Object.entries(PATHS)) {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 1500 }), fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0, 0.02, 0.1, 0.5, 1), fc.integer({ min: 1, max: 60 }),
      fc.array(fc.integer({ min: 0, max: 1499 }), { maxLength: 40 }), fc.boolean(), fc.boolean(),
      (items, seed, share, k, excluded, listed, uniform) => {
        const c = catalogOf(items, seed, uniform)
        const engines = createSearchEngines(c, options)
        const filter = filterOf(items, share, seed + 1)
        const set = { codes: c.itemCodes, codeWords: 2, count: items, queries: c.queryCodes }
        for (let q = 0; q < 3; q++) {
          const code = c.queryCodes.subarray(q * 2, q * 2 + 2)
          const skip = new Set([...excluded, ...[...Array(items).keys()].filter((r) => !filter.has(r))])
          const got = engines.hamming(code, { k, exclude: excluded.length > 0 ? excludeOf(excluded, listed) : undefined, filter })
          const want = naiveHammingTopK(set, code, k, skip)
          assert.deepEqual([...got.rows], want.rows, `${name}: rows`)
          assert.deepEqual([...got.scores], want.scores, `${name}: scores`)
        }
      }), { numRuns: 25, seed: 11 })
  }
})

test('hamming queries alternating between filters and none stay exact (the tables\' and the scan\'s kept base bitmap)', () => {
  for (const options of [{ hammingTables: false, rowListMax: 0 }, { hammingTables: true, m: 4, rowListMax: 0, subsetMaxShare: 0, tableBudgetFraction: 1e6 }] satisfies SearchEngineOptions[]) {
    const c = catalogOf(900, 3)
    const engines = createSearchEngines(c, options)
    const filters = [undefined, filterOf(900, 0.1, 1), filterOf(900, 0.5, 2), RowFilter.all(900), filterOf(900, 0, 3)]
    const set = { codes: c.itemCodes, codeWords: 2, count: 900, queries: c.queryCodes }
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 5 }), fc.array(fc.integer({ min: 0, max: 899 }), { maxLength: 30 })), { minLength: 1, maxLength: 12 }), (steps) => {
      for (const [f, q, excluded] of steps) {
        const filter = filters[f]
        const code = c.queryCodes.subarray(q * 2, q * 2 + 2)
        const skip = new Set([...excluded, ...[...Array(900).keys()].filter((r) => filter !== undefined && !filter.has(r))])
        assert.deepEqual([...engines.hamming(code, { k: 15, exclude: new Set(excluded), filter }).rows], naiveHammingTopK(set, code, 15, skip).rows)
      }
    }), { numRuns: 40, seed: 13 })
  }
})

test('mips under a filter, exact engine: the exact top-k by inner product of the eligible rows that are not excluded', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 800 }), fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0, 0.05, 0.3, 0.7, 1), fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: 0, max: 799 }), { maxLength: 30 }), (items, seed, share, k, excluded) => {
    const c = catalogOf(items, seed)
    const engines = createSearchEngines(c)
    const filter = filterOf(items, share, seed + 2)
    const exclude = new Set(excluded)
    for (let q = 0; q < 3; q++) {
      const vector = c.queryVectors.subarray(q * 8, q * 8 + 8)
      assert.deepEqual([...engines.mips(vector, { k, exclude, filter }).rows], naiveMips(c, vector, k, (r) => filter.has(r) && !exclude.has(r)))
    }
  }), { numRuns: 60, seed: 17 })
})

test('mips under a filter through HNSW: k eligible rows with exact scores whenever k exist (widened breadth, callback, exact rows), exact for small filters', () => {
  const items = 6000
  const c = catalogOf(items, 21)
  const built = buildHnswIndex({ vectors: c.itemVectors, count: items, dimension: 8, bias: null }, { space: 'ip', M: 8, efConstruction: 60, efSearch: 32, randomSeed: 100 })
  const catalog = { ...c, hnsw: { index: built.index, indexDimension: built.indexDimension, space: 'ip' as const, maxNorm: built.maxNorm, source: 'built' as const, buildMs: 1 } }
  const engines = createSearchEngines(catalog, { exactMipsMaxItems: 0 })
  assert.equal(engines.info.mips.structure, 'hnsw')
  const items8 = { itemVectors: c.itemVectors, itemBias: null, dimension: 8, itemCount: items }
  let hits = 0
  let wanted = 0
  for (const share of [0.001, 0.01, 0.1, 0.5, 0.95]) {
    const filter = filterOf(items, share, 7)
    for (let q = 0; q < 6; q++) {
      const vector = c.queryVectors.subarray(q * 8, q * 8 + 8)
      const exclude = new Set(naiveMips(c, vector, 20, () => true).filter((_, i) => i % 2 === 0))
      for (const k of [1, 10, 100]) {
        const got = engines.mips(vector, { k, exclude, filter })
        const want = naiveMips(c, vector, k, (r) => filter.has(r) && !exclude.has(r))
        assert.equal(got.rows.length, want.length, `share ${share} k ${k}: full`)
        got.rows.forEach((row, i) => {
          assert.ok(filter.has(row) && !exclude.has(row), `share ${share}: row ${row} eligible`)
          assert.equal(got.scores[i], Math.fround(itemScore(items8, row, vector)))
        })
        if (filter.count < 200) assert.deepEqual([...got.rows], want, `share ${share}: a small filter is scored exactly`)
        const w = new Set(want)
        hits += [...got.rows].filter((r) => w.has(r)).length
        wanted += want.length
      }
    }
  }
  // Eligible rows far from the query (its lowest-scoring 30%): the widened fetch comes back short,
  // and the callback (or the exact rows after it) must still fill the answer.
  for (let q = 0; q < 6; q++) {
    const vector = c.queryVectors.subarray(q * 8, q * 8 + 8)
    const far = RowFilter.fromRows(naiveMips(c, vector, items, () => true).slice(Math.floor(items * 0.7)), items)
    const got = engines.mips(vector, { k: 10, filter: far })
    assert.equal(got.rows.length, 10)
    for (const row of got.rows) assert.ok(far.has(row))
  }
  // HNSW is approximate: the filtered answers should be about as good as unfiltered ones from the same graph.
  let plainHits = 0
  for (let q = 0; q < 6; q++) {
    const vector = c.queryVectors.subarray(q * 8, q * 8 + 8)
    const want = new Set(naiveMips(c, vector, 10, () => true))
    plainHits += [...engines.mips(vector, { k: 10 }).rows].filter((r) => want.has(r)).length
  }
  assert.ok(hits / wanted >= Math.min(0.85, plainHits / 60 - 0.1), `filtered recall ${hits / wanted}, unfiltered ${plainHits / 60}`)
})

test('hybrid under a filter: a small filter re-ranks every eligible row; the subset scan and the bitmap paths re-rank the exact eligible Hamming top-C', () => {
  const paths: Record<string, SearchEngineOptions> = {
    'row list': { rowListMax: 1e9 },
    'linear scan bitmap': { rowListMax: 0, hammingTables: false },
    'tables, exact candidate stage': { rowListMax: 0, subsetMaxShare: 0, hammingTables: true, m: 4, hybridCodesPerCandidate: 0, tableBudgetFraction: 1e6 },
    'subset scan': { rowListMax: 0, subsetMaxShare: 1.01, hammingTables: true, m: 4 },
  }
  for (const [name, options] of Object.entries(paths)) {
    for (const prefilter of [true, false]) {
      fc.assert(fc.property(fc.integer({ min: 1, max: 1200 }), fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0, 0.05, 0.3, 1), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 80 }), fc.array(fc.integer({ min: 0, max: 1199 }), { maxLength: 30 }), (items, seed, share, k, candidates, excluded) => {
        const c = catalogOf(items, seed)
        const engines = createSearchEngines(c, { ...options, hybridPrefilter: prefilter })
        const filter = filterOf(items, share, seed + 3)
        const exclude = new Set(excluded)
        const eligible = (r: number): boolean => filter.has(r) && !exclude.has(r)
        const set = { codes: c.itemCodes, codeWords: 2, count: items, queries: c.queryCodes }
        for (let q = 0; q < 2; q++) {
          const code = c.queryCodes.subarray(q * 2, q * 2 + 2)
          const vector = c.queryVectors.subarray(q * 8, q * 8 + 8)
          const got = [...engines.hybrid(code, vector, { k, exclude, filter, candidates }).rows]
          const pool = name === 'row list' ? [...filter.rows].filter(eligible) : naiveHammingTopK(set, code, Math.max(k, candidates), new Set([...Array(items).keys()].filter((r) => !eligible(r)))).rows
          const want = naiveMips(c, vector, k, (r) => pool.includes(r))
          assert.deepEqual(got, want, `${name}, prefilter ${prefilter}`)
        }
      }), { numRuns: 15, seed: 19 })
    }
  }
})

test('hybrid under a filter in bounded mode (tables, 8 codes per candidate) returns k eligible rows with exact scores', () => {
  const c = catalogOf(40_000, 23)
  const engines = createSearchEngines(c, { rowListMax: 0, subsetMaxShare: 0 })
  assert.equal(engines.info.hamming.structure, 'multi-index')
  const items = { itemVectors: c.itemVectors, itemBias: null, dimension: 8, itemCount: c.itemCount }
  for (const share of [0.3, 0.6]) {
    const filter = filterOf(c.itemCount, share, 29)
    for (let q = 0; q < 6; q++) {
      const code = c.queryCodes.subarray(q * 2, q * 2 + 2)
      const vector = c.queryVectors.subarray(q * 8, q * 8 + 8)
      const got = engines.hybrid(code, vector, { k: 10, filter })
      assert.equal(got.rows.length, 10)
      got.rows.forEach((row, i) => {
        assert.ok(filter.has(row))
        assert.equal(got.scores[i], Math.fround(itemScore(items, row, vector)))
        if (i > 0) assert.ok(got.scores[i] <= got.scores[i - 1])
      })
    }
  }
})
