import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { computeItemGram } from '../../src/model-loader/item-vectors.js'
import { createFoldInScratch, foldInVector } from '../../src/realtime/fold-in.js'
import { seededRandom } from '../helpers/bundle-fixture.js'

function randomModel (items: number, d: number, seed: number, alpha: number, reg: number) {
  const rand = seededRandom(seed)
  const itemVectors = Float32Array.from({ length: items * d }, () => rand() * 2 - 1)
  return { dimension: d, itemVectors, itemGram: computeItemGram(itemVectors, items, d), foldIn: { alpha, reg, regExponent: 0 } }
}

test('foldInVector zeroes the gradient of the weighted iALS objective over all items', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 8 }), fc.double({ min: 0, max: 40, noNaN: true }), fc.double({ min: 0.01, max: 5, noNaN: true }), fc.integer({ min: 1, max: 9 }), (seed, n, alpha, reg, d) => {
    // Dimensions below, at and between multiples of 4: the solve's passes take four rows of A at a time.
    const items = 40
    const model = randomModel(items, d, seed, alpha, reg)
    const rows = Int32Array.from({ length: n }, (_, i) => (seed + i * 7) % items)
    const out = new Float32Array(d)
    assert.equal(foldInVector(model, rows, n, out, createFoldInScratch(d)), true)
    // L(u) = sum_i c_i (p_i - u.v_i)^2 + reg |u|^2 with c_i = 1 + alpha * count_i, p_i = 1 on the user's items.
    const count = new Map<number, number>()
    for (const r of rows) count.set(r, (count.get(r) ?? 0) + 1)
    const grad = new Float64Array(d)
    for (let i = 0; i < items; i++) {
      let dot = 0
      for (let j = 0; j < d; j++) dot += out[j] * model.itemVectors[i * d + j]
      const c = count.get(i) ?? 0
      // Repeated rows add confidence alpha each and preference weight (1 + alpha) each, as the solve does.
      const residualWeight = (1 + alpha * c) * dot - (1 + alpha) * c
      for (let j = 0; j < d; j++) grad[j] += residualWeight * model.itemVectors[i * d + j]
    }
    for (let j = 0; j < d; j++) grad[j] += reg * out[j]
    const scale = 1 + alpha * n
    for (let j = 0; j < d; j++) assert.ok(Math.abs(grad[j]) < 1e-4 * scale, `gradient ${j} = ${grad[j]}`)
  }), { numRuns: 200 })
})

test('foldInVector answers false for an empty item list and leaves the output alone', () => {
  const model = randomModel(10, 4, 1, 10, 0.1)
  const out = new Float32Array(4).fill(7)
  assert.equal(foldInVector(model, new Int32Array(0), 0, out, createFoldInScratch(4)), false)
  assert.deepEqual([...out], [7, 7, 7, 7])
})

test('foldInVector ranks the folded-in items above unrelated ones on planted clusters', () => {
  // Two orthogonal groups of items; a user who saw group A scores group A above group B.
  const d = 4
  const items = 20
  const v = new Float32Array(items * d)
  for (let i = 0; i < items; i++) {
    const group = i < 10 ? 0 : 2
    v[i * d + group] = 1
    v[i * d + group + 1] = 0.1 * (i % 3)
  }
  const model = { dimension: d, itemVectors: v, itemGram: computeItemGram(v, items, d), foldIn: { alpha: 10, reg: 0.1, regExponent: 0 } }
  const out = new Float32Array(d)
  foldInVector(model, Int32Array.of(0, 1, 2), 3, out, createFoldInScratch(d))
  const score = (i: number): number => out[0] * v[i * d] + out[1] * v[i * d + 1] + out[2] * v[i * d + 2] + out[3] * v[i * d + 3]
  for (let i = 3; i < 10; i++) for (let j = 10; j < 20; j++) assert.ok(score(i) > score(j))
})
