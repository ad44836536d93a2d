import { test } from 'node:test'
import assert from 'node:assert/strict'
import { frequencyOrder } from '../../../src/trainer/table-layout.js'
import { rowCounts } from '../../../src/trainer/mappings/input.js'
import { L2C_DEFAULTS, l2cAssignment } from '../../../src/trainer/mappings/l2c.js'
import { boundedSphericalKMeans, normalizeRows } from '../../../src/trainer/mappings/balanced-kmeans.js'
import { createRng } from '../../../src/trainer/rng.js'
import { plantedInput } from './planted.js'

const graph = { users: 120, items: 200, blocks: 4, perUser: 15, noise: 0.05 }

test('l2c gives the most frequent ids their own rows and clusters the rest within the size bound and the budget', async () => {
  const input = plantedInput(graph, 'item', 40, { dedicatedShare: 0.25 })
  const a = await l2cAssignment(input)
  assert.equal(a.dedicatedRows, 10)
  assert.equal(a.dedicatedRows + a.sharedRows, 40)
  const order = frequencyOrder(rowCounts(input.matrix))
  for (let r = 0; r < 10; r++) assert.equal(a.rows[2 * order[r]], r)
  const size = new Int32Array(40)
  for (let i = 0; i < 200; i++) {
    assert.equal(a.rows[2 * i + 1], -1)
    size[a.rows[2 * i]]++
  }
  const bound = Math.ceil(L2C_DEFAULTS.capacityFactor * Math.ceil(190 / 30))
  for (let r = 10; r < 40; r++) assert.ok(size[r] <= bound, `row ${r} holds ${size[r]} > ${bound}`)
  for (let r = 0; r < 10; r++) assert.equal(size[r], 1)
})

test('l2c is a pure function of the seed on one thread', async () => {
  const a = await l2cAssignment(plantedInput(graph, 'item', 40))
  const b = await l2cAssignment(plantedInput(graph, 'item', 40))
  assert.deepEqual(Array.from(a.rows), Array.from(b.rows))
})

test('l2c clusters the tail along the planted blocks', async () => {
  const input = plantedInput({ ...graph, noise: 0 }, 'item', 24, { dedicatedShare: 1 / 3 })
  const a = await l2cAssignment(input)
  // Each cluster row should be (almost) one block: count members outside its majority block.
  const members = new Map<number, number[]>()
  for (let i = 0; i < 200; i++) if (a.rows[2 * i] >= a.dedicatedRows) members.set(a.rows[2 * i], [...(members.get(a.rows[2 * i]) ?? []), i % 4])
  let off = 0
  let total = 0
  for (const blocks of members.values()) {
    const counts = [0, 1, 2, 3].map((b) => blocks.filter((x) => x === b).length)
    off += blocks.length - Math.max(...counts)
    total += blocks.length
  }
  assert.ok(off / total < 0.1, `${off} of ${total} tail items outside their cluster's block`)
})

test('the bounded k-means never exceeds its capacity, even when it forces equal sizes', () => {
  const rng = createRng(3)
  const n = 101
  const x = normalizeRows(Float32Array.from({ length: n * 4 }, () => rng.normal() + 2), n, 4)
  const cluster = boundedSphericalKMeans(x, n, 4, { clusters: 10, capacity: 11, iterations: 4, seed: 1 })
  const size = new Int32Array(10)
  for (const c of cluster) size[c]++
  assert.ok(size.every((s) => s <= 11))
  assert.throws(() => boundedSphericalKMeans(x, n, 4, { clusters: 10, capacity: 10, iterations: 1, seed: 1 }), RangeError)
})
