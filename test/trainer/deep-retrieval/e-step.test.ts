import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizeInput } from '../../../src/search/deep-retrieval/network.js'
import { EStep } from '../../../src/trainer/deep-retrieval/e-step.js'
import { createRng } from '../../../src/trainer/rng.js'
import { randomStructure } from '../../helpers/deep-retrieval-fixture.js'

function unit (n: number, seed: number): Float32Array {
  const rng = createRng(seed)
  const out = new Float32Array(n)
  normalizeInput(Float32Array.from({ length: n }, () => rng.normal()), n, out)
  return out
}

for (const hidden of [0, 5]) {
  test(`the E-step's gradient of -log sum_j p(path_j | u) matches finite differences (${hidden === 0 ? 'linear' : 'MLP'})`, () => {
    const n = 4
    const s = randomStructure({ items: 6, dimension: n, depth: 3, width: 3, pathsPerItem: 2, embeddingDimension: 2, hidden, seed: 4, sharpness: 1 })
    const estep = new EStep(s.network, { learningRate: 0.01, weightDecay: 0 })
    const u = unit(n, 5)
    const items = Int32Array.from([0, 2, 3, 5])
    const loss = (): number => {
      estep.refreshTables()
      const probe = new EStep(s.network, { learningRate: 0, weightDecay: 0 })
      return probe.accumulateUser(u, items, 0, items.length, s.itemKeys)
    }
    estep.accumulateUser(u, items, 0, items.length, s.itemKeys)
    const grads = estep.gradients()
    const rng = createRng(9)
    let checked = 0
    for (const { param, grad } of grads) {
      for (let probe = 0; probe < 6; probe++) {
        const i = Math.floor(rng.next() * param.length)
        const keep = param[i]
        const h = 1e-2
        param[i] = keep + h
        const up = loss()
        param[i] = keep - h
        const down = loss()
        param[i] = keep
        const numeric = (up - down) / (2 * h)
        // float32 weights: agreement to a few parts in a thousand of the gradient's scale.
        assert.ok(Math.abs(numeric - grad[i]) <= 2e-3 + 2e-2 * Math.abs(numeric), `param ${checked}: numeric ${numeric} vs analytic ${grad[i]}`)
        checked++
      }
    }
    assert.ok(checked >= 6 * 3)
  })
}

test('E-step training lowers the loss of the pairs it trains on', () => {
  const n = 6
  const s = randomStructure({ items: 40, dimension: n, depth: 2, width: 5, pathsPerItem: 2, embeddingDimension: 3, seed: 2, sharpness: 1 })
  const estep = new EStep(s.network, { learningRate: 0.05, weightDecay: 0 })
  const users = Array.from({ length: 8 }, (_, u) => unit(n, 100 + u))
  const itemsOf = users.map((_, u) => Int32Array.from({ length: 5 }, (_, i) => (u * 5 + i) % 40))
  const total = (): number => users.reduce((acc, u, i) => acc + new EStep(s.network, { learningRate: 0, weightDecay: 0 }).accumulateUser(u, itemsOf[i], 0, 5, s.itemKeys), 0)
  const before = total()
  for (let epoch = 0; epoch < 30; epoch++) {
    users.forEach((u, i) => estep.accumulateUser(u, itemsOf[i], 0, 5, s.itemKeys))
    estep.step(40)
  }
  assert.ok(total() < before * 0.8, `loss ${before} -> ${total()}`)
})
