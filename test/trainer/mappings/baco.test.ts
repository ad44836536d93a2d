import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BACO_DEFAULTS, bacoAssignment } from '../../../src/trainer/mappings/baco.js'
import { plantedInput } from './planted.js'

const twoBlocks = { users: 80, items: 120, blocks: 2, perUser: 12, noise: 0.02 }

/** Share of ids whose cluster's majority block is not their own (0: the blocks are recovered). */
function misplaced (rows: Int32Array, n: number, blocks: number): number {
  const members = new Map<number, number[]>()
  for (let i = 0; i < n; i++) members.set(rows[2 * i], [...(members.get(rows[2 * i]) ?? []), i % blocks])
  let off = 0
  for (const list of members.values()) {
    const counts = Array.from({ length: blocks }, (_, b) => list.filter((x) => x === b).length)
    off += list.length - Math.max(...counts)
  }
  return off / n
}

test('baco recovers two planted blocks of items as two clusters', () => {
  const a = bacoAssignment(plantedInput(twoBlocks, 'item', 2, { dedicatedShare: 0 }))
  assert.equal(a.dedicatedRows, 0)
  assert.ok(a.sharedRows <= 2)
  assert.equal(misplaced(a.rows, 120, 2), 0)
})

test('baco recovers planted user blocks too, and with more rows than blocks each cluster stays inside a block', () => {
  const a = bacoAssignment(plantedInput(twoBlocks, 'user', 8, { dedicatedShare: 0 }))
  assert.ok(a.sharedRows <= 8)
  assert.ok(misplaced(a.rows, 80, 2) < 0.05)
})

test('baco never uses more rows than the budget, dedicated rows included', () => {
  for (const rows of [3, 10, 30]) {
    for (const dedicatedShare of [0, 0.3]) {
      const a = bacoAssignment(plantedInput({ users: 100, items: 150, blocks: 5, perUser: 10, noise: 0.1 }, 'item', rows, { dedicatedShare }))
      assert.ok(a.dedicatedRows + a.sharedRows <= rows, `${a.dedicatedRows} + ${a.sharedRows} > ${rows}`)
      assert.equal(a.dedicatedRows, Math.floor(rows * dedicatedShare))
      for (let i = 0; i < 150; i++) assert.ok(a.rows[2 * i] >= 0 && a.rows[2 * i] < rows)
    }
  }
})

test('baco gives ids a second cluster only when asked', () => {
  const input = plantedInput({ users: 100, items: 150, blocks: 5, perUser: 10, noise: 0.3 }, 'user', 10, { dedicatedShare: 0 })
  const plain = bacoAssignment(input)
  assert.ok(plain.rows.every((r, j) => j % 2 === 0 || r === -1))
  const two = bacoAssignment({ ...input, secondary: true })
  let withSecond = 0
  for (let i = 0; i < 100; i++) {
    if (two.rows[2 * i + 1] === -1) continue
    withSecond++
    assert.notEqual(two.rows[2 * i + 1], two.rows[2 * i])
  }
  assert.ok(withSecond > 0)
})

test('baco is a pure function of the seed', () => {
  const input = plantedInput({ users: 100, items: 150, blocks: 5, perUser: 10, noise: 0.1 }, 'item', 12)
  assert.deepEqual(Array.from(bacoAssignment(input).rows), Array.from(bacoAssignment(input).rows))
})

test('baco with few users and many items: ids without an interaction share one cold row, every other cluster stays within the size bound', () => {
  // 12 users, 600 items picked with a skew: most items have no interaction, as in a time split of a
  // small log (ml-latest-small: 610 users, 1,494 of 9,724 items without a training rating).
  const input = plantedInput({ users: 12, items: 600, blocks: 3, perUser: 40, noise: 0.05 }, 'item', 60)
  const { matrix } = input
  const a = bacoAssignment(input)
  const k = a.dedicatedRows
  const bound = Math.ceil(BACO_DEFAULTS.capacityFactor * Math.ceil((600 - k) / (60 - k)))
  const coldRows = new Set<number>()
  const warm = new Map<number, number>()
  for (let i = 0; i < 600; i++) {
    const row = a.rows[2 * i]
    if (matrix.indptr[i + 1] === matrix.indptr[i]) coldRows.add(row)
    else warm.set(row, (warm.get(row) ?? 0) + 1)
  }
  assert.ok(k > 0 && warm.size > 1)
  assert.equal(coldRows.size, 1)
  const [cold] = coldRows
  assert.ok(cold >= k && !warm.has(cold), 'the cold row is a shared row of its own')
  for (const [row, size] of warm) if (row >= k) assert.ok(size <= bound, `row ${row}: ${size} ids > ${bound}`)
  assert.ok(a.dedicatedRows + a.sharedRows <= 60)
})
