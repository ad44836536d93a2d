import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { HnswHandle } from '../../../src/model-loader/model.js'
import { buildHnswIndex } from '../../../src/model-loader/hnsw-index.js'
import { exactMipsTopK } from '../../../src/search/mips/brute-force.js'
import { createHnswMips } from '../../../src/search/mips/hnsw-mips.js'
import { makeVectors, naiveMipsTopK } from '../helpers.js'

function handle (vectors: Float32Array, bias: Float32Array | null, count: number, dimension: number, space: 'ip' | 'l2-mips'): HnswHandle {
  const built = buildHnswIndex({ vectors, count, dimension, bias }, { space, M: 16, efConstruction: 100, efSearch: 50, randomSeed: 100 })
  return { index: built.index, indexDimension: built.indexDimension, space, maxNorm: built.maxNorm, source: 'built', buildMs: 0 }
}

function queryOf (vectors: Float32Array, dimension: number, row: number): Float32Array {
  return vectors.slice(row * dimension, (row + 1) * dimension)
}

test('exact MIPS equals the naive sort (score desc, row asc), with and without bias and exclusions', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 33 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), fc.integer({ min: 0, max: 1000 }),
    (count, dimension, k, withBias, seed) => {
      const { vectors, bias } = makeVectors(count, dimension, seed, withBias)
      const query = queryOf(vectors, dimension, seed % count)
      const exclude = new Set([0, 3, 5].filter((r) => r < count))
      const got = exactMipsTopK({ itemVectors: vectors, itemBias: bias, dimension, itemCount: count }, query, k, exclude)
      // float32 accumulation may reorder near-ties against the float64 reference: compare score sets.
      const expected = naiveMipsTopK(vectors, bias, dimension, count, query, k, exclude)
      assert.equal(got.rows.length, expected.length)
      assert.ok([...got.rows].every((r) => !exclude.has(r)))
      for (let i = 1; i < got.rows.length; i++) assert.ok(got.scores[i - 1] > got.scores[i] || (got.scores[i - 1] === got.scores[i] && got.rows[i - 1] < got.rows[i]))
      const overlap = expected.filter((r) => [...got.rows].includes(r)).length
      assert.ok(overlap >= expected.length - 1, `overlap ${overlap} of ${expected.length}`)
    }), { numRuns: 60, seed: 7 })
})

test('exact MIPS breaks exact score ties by lower row first', () => {
  const dimension = 2
  const vectors = new Float32Array([1, 0, 0, 1, 1, 0, 1, 0, 0.5, 0])
  const got = exactMipsTopK({ itemVectors: vectors, itemBias: null, dimension, itemCount: 5 }, new Float32Array([1, 0]), 3, undefined)
  assert.deepEqual([...got.rows], [0, 2, 3])
})

for (const space of ['ip', 'l2-mips'] as const) {
  test(`HNSW MIPS (${space}) reaches recall@10 >= 0.9 against the exact oracle on 3000 clustered items, with exact scores`, () => {
    const count = 3000
    const dimension = 16
    const { vectors, bias } = makeVectors(count, dimension, 21, true)
    const items = { itemVectors: vectors, itemBias: bias, dimension, itemCount: count }
    const mips = createHnswMips(items, handle(vectors, bias, count, dimension, space), 64)
    let hits = 0
    const queries = 50
    for (let q = 0; q < queries; q++) {
      const query = queryOf(vectors, dimension, (q * 61) % count)
      const got = mips.search(query, 10, 100)
      const exact = exactMipsTopK(items, query, 10, undefined)
      assert.equal(got.rows.length, 10)
      const exactSet = new Set(exact.rows)
      hits += [...got.rows].filter((r) => exactSet.has(r)).length
      for (let i = 0; i < got.rows.length; i++) {
        const ref = exactMipsTopK({ ...items, itemVectors: vectors.subarray(got.rows[i] * dimension, (got.rows[i] + 1) * dimension), itemBias: bias ? bias.subarray(got.rows[i], got.rows[i] + 1) : null, itemCount: 1 }, query, 1, undefined)
        assert.equal(got.scores[i], ref.scores[0])
      }
    }
    assert.ok(hits / (queries * 10) >= 0.9, `recall ${hits / (queries * 10)}`)
  })
}

test('HNSW MIPS with exclusions over-fetches and still returns k rows, none excluded', () => {
  const count = 2000
  const dimension = 8
  const { vectors } = makeVectors(count, dimension, 5)
  const items = { itemVectors: vectors, itemBias: null, dimension, itemCount: count }
  const mips = createHnswMips(items, handle(vectors, null, count, dimension, 'ip'), 64)
  const query = queryOf(vectors, dimension, 17)
  const top = exactMipsTopK(items, query, 60, undefined)
  const exclude = new Set(top.rows.subarray(0, 40))
  const got = mips.search(query, 10, undefined, exclude)
  assert.equal(got.rows.length, 10)
  assert.ok([...got.rows].every((r) => !exclude.has(r)))
})

test('HNSW MIPS with k above the catalog returns every item; with most items excluded it answers exactly', () => {
  const count = 30
  const dimension = 4
  const { vectors } = makeVectors(count, dimension, 9)
  const items = { itemVectors: vectors, itemBias: null, dimension, itemCount: count }
  const mips = createHnswMips(items, handle(vectors, null, count, dimension, 'ip'), 64)
  const query = queryOf(vectors, dimension, 3)
  assert.equal(mips.search(query, 100, undefined).rows.length, 30)
  const exclude = new Set(Array.from({ length: 25 }, (_, i) => i))
  assert.deepEqual([...mips.search(query, 10, undefined, exclude).rows].sort((a, b) => a - b), [25, 26, 27, 28, 29])
})
