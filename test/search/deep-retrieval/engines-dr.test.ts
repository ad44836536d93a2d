import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateSyntheticCatalog } from '../../../bench/lib/synthetic-catalog.js'
import { createSearchEngines, type SearchCatalog } from '../../../src/search/engines.js'
import { exactMipsTopK } from '../../../src/search/mips/brute-force.js'
import { randomStructure } from '../../helpers/deep-retrieval-fixture.js'

function catalog (items: number, withStructure: boolean): SearchCatalog & { queryCodes: Uint32Array, queryVectors: Float32Array } {
  const c = generateSyntheticCatalog({ items, dimension: 16, codeBits: 64, seed: 4, queries: 4 })
  return {
    dimension: 16, codeBits: 64, codeWords: 2, itemCount: items, itemCodes: c.itemCodes, itemVectors: c.itemVectors, itemNorms: c.itemNorms, itemBias: null, hnsw: null,
    deepRetrieval: withStructure ? randomStructure({ items, dimension: 16, depth: 2, width: 6, pathsPerItem: 1, beam: 3, seed: 4 }) : null,
    queryCodes: c.queryCodes, queryVectors: c.queryVectors,
  }
}

test('engines without a structure have no dr method and report none', () => {
  const engines = createSearchEngines(catalog(100, false))
  assert.equal(engines.dr, null)
  assert.equal(engines.info.deepRetrieval, null)
})

test('engines.dr serves the beam search at the bundle beam, a wider one when asked, and describes the structure', () => {
  const cat = catalog(200, true)
  const engines = createSearchEngines(cat)
  const q = cat.queryVectors.subarray(0, 16)
  const code = cat.queryCodes.subarray(0, 2)
  const narrow = engines.dr!(code, q, { k: 5 })
  assert.equal(narrow.fallback, null)
  assert.equal(narrow.beam, 3)
  assert.ok(narrow.candidatesExamined < 200)
  // A beam over all 36 paths scores every item: the exhaustive answer.
  const all = engines.dr!(code, q, { k: 5, beam: 36 })
  const exact = exactMipsTopK(cat, q, 5, undefined)
  assert.deepEqual([...all.rows], [...exact.rows])
  assert.equal(all.candidatesExamined, 200)
  assert.equal(engines.stats.drQueries, 2)
  const info = engines.info.deepRetrieval!
  assert.deepEqual({ depth: info.depth, width: info.width, pathsPerItem: info.pathsPerItem, hidden: info.hidden, defaultBeam: info.defaultBeam, maxBeam: info.maxBeam }, { depth: 2, width: 6, pathsPerItem: 1, hidden: 0, defaultBeam: 3, maxBeam: 1024 })
  assert.ok(info.paths <= 36 && info.largestPath >= 1)
})

test('engines.dr widens a beam that holds fewer than k eligible items, and answers exactly when it gathered every eligible item', () => {
  const cat = catalog(200, true)
  const engines = createSearchEngines(cat)
  const q = cat.queryVectors.subarray(0, 16)
  const code = cat.queryCodes.subarray(0, 2)
  const widened = engines.dr!(code, q, { k: 150, beam: 1 })
  assert.equal(widened.fallback, null)
  assert.ok(widened.beam > 1)
  assert.equal(widened.rows.length, 150)
  assert.equal(engines.stats.drWidened, 1)
  // Every item but three excluded: even the widest beam gathers 3 < k eligible items; that is
  // every eligible item, so the beam search answers exactly rather than falling back.
  const exclude = new Set(Array.from({ length: 197 }, (_, i) => i))
  const few = engines.dr!(code, q, { k: 10, beam: 1, exclude })
  assert.deepEqual([...few.rows].sort((a, b) => a - b), [197, 198, 199])
  assert.equal(few.fallback, null)
})

test('engines.dr falls back when the widest beam still misses items: hybrid with a code, exact MIPS without', () => {
  // Each item on a path of its own: 1100 non-empty paths, more than the widest beam reaches.
  const items = 1100
  const c = generateSyntheticCatalog({ items, dimension: 8, codeBits: 64, seed: 2, queries: 1 })
  const structure = randomStructure({ items, dimension: 8, depth: 2, width: 34, pathsPerItem: 1, beam: 1, seed: 2 })
  for (let i = 0; i < items; i++) structure.itemKeys[i] = i
  const cat: SearchCatalog = { dimension: 8, codeBits: 64, codeWords: 2, itemCount: items, itemCodes: c.itemCodes, itemVectors: c.itemVectors, itemNorms: c.itemNorms, itemBias: null, hnsw: null, deepRetrieval: structure }
  const engines = createSearchEngines(cat)
  const q = c.queryVectors.subarray(0, 8)
  const hybrid = engines.dr!(c.queryCodes.subarray(0, 2), q, { k: 1050, beam: 1 })
  assert.equal(hybrid.fallback, 'hybrid')
  assert.equal(hybrid.beam, 1024)
  assert.deepEqual([...hybrid.rows], [...engines.hybrid(c.queryCodes.subarray(0, 2), q, { k: 1050 }).rows])
  const mips = engines.dr!(null, q, { k: 1050, beam: 1 })
  assert.equal(mips.fallback, 'mips')
  assert.deepEqual([...mips.rows], [...engines.mips(q, { k: 1050 }).rows])
  assert.equal(engines.stats.drFallbacks, 2)
})

test('engines.dr returns only rows the filter allows, the exhaustive answer under it when the beam covers every path', async () => {
  const { RowFilter } = await import('../../../src/search/row-filter.js')
  const cat = catalog(400, true)
  const engines = createSearchEngines(cat, { rowListMax: 10 })
  const q = cat.queryVectors.subarray(0, 16)
  const code = cat.queryCodes.subarray(0, 2)
  for (const rows of [Array.from({ length: 200 }, (_, i) => 2 * i), [5, 17, 300]]) {
    const filter = RowFilter.fromRows(rows, 400)
    const got = engines.dr!(code, q, { k: 8, beam: 36, filter, exclude: new Set([rows[0]]) })
    const allowed = new Set(rows)
    assert.ok([...got.rows].every((r) => allowed.has(r) && r !== rows[0]))
    const exact = engines.mips(q, { k: 8, filter, exclude: new Set([rows[0]]) })
    assert.deepEqual([...got.rows], [...exact.rows])
  }
})

test('stable Deep Retrieval searches gather the same candidates at every depth, so pages are prefixes of one ranking', () => {
  const cat = catalog(400, true)
  const engines = createSearchEngines(cat)
  const q = cat.queryVectors.subarray(0, 16)
  const code = cat.queryCodes.subarray(0, 2)
  const deep = engines.dr!(code, q, { k: 60, beam: 1, stable: true, candidates: 120 })
  for (const k of [5, 20, 40]) {
    const page = engines.dr!(code, q, { k, beam: 1, stable: true, candidates: 120 })
    assert.deepEqual([...page.rows], [...deep.rows.subarray(0, k)])
    assert.equal(page.beam, deep.beam)
  }
})
