import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { BeamSearch } from '../../../src/search/deep-retrieval/beam-search.js'
import { computePrefixTables, normalizeInput } from '../../../src/search/deep-retrieval/network.js'
import { buildPathIndex } from '../../../src/search/deep-retrieval/path-index.js'
import { createRng } from '../../../src/trainer/rng.js'
import { randomStructure } from '../../helpers/deep-retrieval-fixture.js'
import { referencePaths } from './reference.js'

const shapeArb = fc.record({
  depth: fc.integer({ min: 1, max: 3 }),
  width: fc.integer({ min: 2, max: 5 }),
  embeddingDimension: fc.integer({ min: 1, max: 4 }),
  hidden: fc.constantFrom(0, 0, 3, 6),
  dimension: fc.integer({ min: 1, max: 6 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
})

function unitVector (dimension: number, seed: number): Float32Array {
  const rng = createRng(seed)
  const raw = Float32Array.from({ length: dimension }, () => rng.normal() + 0.01)
  const u = new Float32Array(dimension)
  assert.ok(normalizeInput(raw, dimension, u))
  return u
}

test('beam search with a beam covering every path returns all paths best first, each with its reference log-probability (linear and MLP)', () => {
  fc.assert(fc.property(shapeArb, (s) => {
    const { network } = randomStructure({ items: 1, ...s })
    const u = unitVector(s.dimension, s.seed)
    const all = s.width ** s.depth
    const search = new BeamSearch(network, computePrefixTables(network), all)
    const count = search.run(u, all)
    const expected = referencePaths(network, u)
    assert.equal(count, all)
    const byKey = new Map(expected.map((p) => [p.key, p.logp]))
    for (let i = 0; i < count; i++) {
      assert.ok(Math.abs(search.scores[i] - byKey.get(search.keys[i])!) < 1e-4, `path ${search.keys[i]}: ${search.scores[i]} vs ${byKey.get(search.keys[i])}`)
      if (i > 0) assert.ok(search.scores[i] <= search.scores[i - 1])
    }
    assert.deepEqual(new Set(search.keys.subarray(0, count)), new Set(expected.map((p) => p.key)))
  }), { numRuns: 60, seed: 11 })
})

test('a one-layer beam search of width B is the exact top B of the softmax', () => {
  fc.assert(fc.property(shapeArb, fc.integer({ min: 1, max: 5 }), (s, beam) => {
    const { network } = randomStructure({ items: 1, ...s, depth: 1 })
    const u = unitVector(s.dimension, s.seed)
    const search = new BeamSearch(network, computePrefixTables(network), 8)
    const count = search.run(u, beam)
    const expected = referencePaths(network, u).slice(0, beam)
    assert.equal(count, Math.min(beam, s.width))
    for (let i = 0; i < count; i++) {
      // Near-ties may swap between float32 and double arithmetic; the score at each rank must agree.
      assert.ok(Math.abs(search.scores[i] - expected[i].logp) < 1e-4)
    }
  }), { numRuns: 60, seed: 12 })
})

test('a narrower beam keeps distinct paths, best first, each scored exactly', () => {
  fc.assert(fc.property(shapeArb, fc.integer({ min: 1, max: 6 }), (s, beam) => {
    const { network } = randomStructure({ items: 1, ...s })
    const u = unitVector(s.dimension, s.seed)
    const search = new BeamSearch(network, computePrefixTables(network), 8)
    const count = search.run(u, beam)
    const byKey = new Map(referencePaths(network, u).map((p) => [p.key, p.logp]))
    assert.equal(count, Math.min(beam, s.width ** s.depth))
    assert.equal(new Set(search.keys.subarray(0, count)).size, count)
    for (let i = 0; i < count; i++) assert.ok(Math.abs(search.scores[i] - byKey.get(search.keys[i])!) < 1e-4)
  }), { numRuns: 60, seed: 13 })
})

test('beam search restricted to the non-empty prefixes returns only paths holding items, all of them when the beam covers them', () => {
  fc.assert(fc.property(shapeArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 }), (s, items, beam) => {
    const structure = randomStructure({ items, ...s, pathsPerItem: 1 })
    const index = buildPathIndex(structure.network.shape, structure.itemKeys, items)
    const u = unitVector(s.dimension, s.seed)
    const search = new BeamSearch(structure.network, computePrefixTables(structure.network), 64)
    const count = search.run(u, beam, index.allowed)
    const nonEmpty = new Set(index.keys)
    assert.equal(count, Math.min(beam, nonEmpty.size))
    for (let i = 0; i < count; i++) assert.ok(nonEmpty.has(search.keys[i]))
    if (beam >= nonEmpty.size) assert.deepEqual(new Set(search.keys.subarray(0, count)), nonEmpty)
  }), { numRuns: 80, seed: 14 })
})
