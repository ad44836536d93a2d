import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { BeamSearch } from '../../../src/search/deep-retrieval/beam-search.js'
import { createDeepRetrievalIndex, createDeepRetrievalSearch } from '../../../src/search/deep-retrieval/engine.js'
import { normalizeInput } from '../../../src/search/deep-retrieval/network.js'
import { findPath } from '../../../src/search/deep-retrieval/path-index.js'
import { createHybridReranker } from '../../../src/search/hybrid.js'
import { exactMipsTopK } from '../../../src/search/mips/brute-force.js'
import { createRng } from '../../../src/trainer/rng.js'
import { randomStructure } from '../../helpers/deep-retrieval-fixture.js'

function catalog (items: number, dimension: number, seed: number): { itemVectors: Float32Array, itemBias: null, dimension: number, itemCount: number } {
  const rng = createRng(seed)
  // Coarse values so exact score ties (broken by lower row) occur.
  return { itemVectors: Float32Array.from({ length: items * dimension }, () => Math.round(rng.normal() * 2) / 2), itemBias: null, dimension, itemCount: items }
}

function queryOf (dimension: number, seed: number): Float32Array {
  const rng = createRng(seed + 99)
  return Float32Array.from({ length: dimension }, () => rng.normal() + 0.05)
}

function normalized (q: Float32Array): Float32Array {
  const out = new Float32Array(q.length)
  assert.ok(normalizeInput(q, q.length, out))
  return out
}

const caseArb = fc.record({
  items: fc.integer({ min: 1, max: 60 }),
  dimension: fc.integer({ min: 1, max: 8 }),
  depth: fc.integer({ min: 1, max: 3 }),
  width: fc.integer({ min: 2, max: 4 }),
  pathsPerItem: fc.integer({ min: 1, max: 3 }),
  hidden: fc.constantFrom(0, 4),
  k: fc.integer({ min: 1, max: 15 }),
  excluded: fc.array(fc.integer({ min: 0, max: 59 }), { maxLength: 20 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
})

test('a beam covering every path gives exactly the exhaustive top k over the eligible items (rows, scores, ties)', () => {
  fc.assert(fc.property(caseArb, fc.boolean(), (c, prefilter) => {
    const items = catalog(c.items, c.dimension, c.seed)
    const structure = randomStructure({ ...c, seed: c.seed })
    const index = createDeepRetrievalIndex(structure.network, structure.itemKeys, c.items, 4)
    const search = createDeepRetrievalSearch(items, index, createHybridReranker(items, prefilter), 64)
    const exclude = new Set(c.excluded.filter((r) => r < c.items))
    const q = queryOf(c.dimension, c.seed)
    const got = search(q, { k: c.k, beam: 64, exclude })
    const expected = exactMipsTopK(items, q, c.k, exclude)
    assert.ok(got !== null)
    assert.deepEqual([...got.rows], [...expected.rows])
    assert.deepEqual([...got.scores], [...expected.scores])
    // Every eligible item was gathered once and scored once.
    assert.equal(got.candidatesExamined, c.items - exclude.size)
  }), { numRuns: 150, seed: 21 })
})

test('any beam returns the exact ranking of the eligible items on its paths, never an excluded one', () => {
  fc.assert(fc.property(caseArb, fc.integer({ min: 1, max: 6 }), (c, beam) => {
    const items = catalog(c.items, c.dimension, c.seed)
    const structure = randomStructure({ ...c, seed: c.seed })
    const index = createDeepRetrievalIndex(structure.network, structure.itemKeys, c.items, 4)
    const search = createDeepRetrievalSearch(items, index, createHybridReranker(items, false), beam)
    const exclude = new Set(c.excluded.filter((r) => r < c.items))
    const q = queryOf(c.dimension, c.seed)
    const got = search(q, { k: c.k, beam, exclude })
    if (got === null) {
      // Only when even the widest beam (here: the requested one) holds fewer than k eligible items.
      assert.ok(search.lastPaths >= beam)
      return
    }
    // The same answer as exhaustive search over the candidate set: the eligible items on the
    // paths an independent beam search of the final width reaches.
    const beamSearch = new BeamSearch(structure.network, index.tables, 1024)
    const count = beamSearch.run(normalized(q), search.lastBeam, index.paths.allowed)
    const candidates = new Set<number>()
    for (let i = 0; i < count; i++) {
      const p = findPath(index.paths, beamSearch.keys[i])
      for (let r = index.paths.offsets[p]; r < index.paths.offsets[p + 1]; r++) if (!exclude.has(index.paths.items[r])) candidates.add(index.paths.items[r])
    }
    const notCandidate = new Set(Array.from({ length: c.items }, (_, r) => r).filter((r) => !candidates.has(r)))
    const expected = exactMipsTopK(items, q, c.k, notCandidate)
    assert.deepEqual([...got.rows], [...expected.rows])
    assert.deepEqual([...got.scores], [...expected.scores])
    assert.equal(got.candidatesExamined, candidates.size)
  }), { numRuns: 150, seed: 22 })
})

test('a beam too narrow for k eligible items is widened, and a search that stays short returns null', () => {
  const dimension = 3
  const items = catalog(40, dimension, 5)
  const structure = randomStructure({ items: 40, dimension, depth: 2, width: 8, pathsPerItem: 1, seed: 5 })
  const index = createDeepRetrievalIndex(structure.network, structure.itemKeys, 40, 1)
  const q = queryOf(dimension, 5)
  const wide = createDeepRetrievalSearch(items, index, createHybridReranker(items, false), 1024)
  const got = wide(q, { k: 30, beam: 1 })
  assert.ok(got !== null)
  assert.equal(got.rows.length, 30)
  assert.ok(wide.lastBeam > 1)
  const narrow = createDeepRetrievalSearch(items, index, createHybridReranker(items, false), 2)
  assert.equal(narrow(q, { k: 30, beam: 1 }), null)
  assert.equal(narrow.lastBeam, 2)
})

test('a zero query vector cannot be routed and returns null', () => {
  const items = catalog(10, 2, 3)
  const structure = randomStructure({ items: 10, dimension: 2, seed: 3 })
  const search = createDeepRetrievalSearch(items, createDeepRetrievalIndex(structure.network, structure.itemKeys, 10, 4), createHybridReranker(items, false), 64)
  assert.equal(search(new Float32Array(2), { k: 3 }), null)
})
