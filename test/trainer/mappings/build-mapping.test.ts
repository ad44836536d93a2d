import { test } from 'node:test'
import assert from 'node:assert/strict'
import { itemCounts } from '../../../src/trainer/evaluate.js'
import { buildMapping } from '../../../src/trainer/mappings/build-mapping.js'
import { createTableLayout, frequencyOrder, planBudget, tableSeeds, type TableLayout } from '../../../src/trainer/table-layout.js'
import { plantedInput } from './planted.js'

function sameLayout (a: TableLayout, b: TableLayout): void {
  assert.deepEqual(a.config, b.config)
  assert.deepEqual(Array.from(a.idRows), Array.from(b.idRows))
  assert.deepEqual(Array.from(a.idRowCount), Array.from(b.idRowCount))
  assert.deepEqual(Array.from(a.rowIds), Array.from(b.rowIds))
  assert.deepEqual(Array.from(a.rowMult), Array.from(b.rowMult))
  assert.deepEqual(Array.from(a.dedicatedIds), Array.from(b.dedicatedIds))
}

test('the hash mapping of each table reproduces planBudget and createTableLayout for that table', async () => {
  const users = plantedInput({ users: 90, items: 140, blocks: 3, perUser: 12 }, 'user', 0)
  const byUser = users.matrix
  const uc = Float32Array.from({ length: byUser.rows }, (_, u) => byUser.indptr[u + 1] - byUser.indptr[u])
  const ic = itemCounts(byUser)
  for (const budget of [0.1, 0.3, 1]) {
    const plan = planBudget(uc, ic, budget)
    const items = plantedInput({ users: 90, items: 140, blocks: 3, perUser: 12 }, 'item', plan.itemDedicated + plan.itemShared)
    const itemIds = items.ids
    sameLayout(await buildMapping('hash', 'item', items), createTableLayout(itemIds, frequencyOrder(ic).slice(0, plan.itemDedicated), plan.itemShared, tableSeeds(7, 'item')))
    const userLayout = await buildMapping('hash', 'user', { ...users, rows: plan.userDedicated + plan.userShared })
    sameLayout(userLayout, createTableLayout(users.ids, frequencyOrder(uc).slice(0, plan.userDedicated), plan.userShared, tableSeeds(7, 'user')))
  }
})

test('a learned mapping with room for every id is the unhashed table', async () => {
  const input = plantedInput({ users: 30, items: 40, blocks: 2, perUser: 6 }, 'item', 40)
  for (const kind of ['l2c', 'baco'] as const) {
    const layout = await buildMapping(kind, 'item', input)
    assert.equal(layout.rows, 40)
    assert.equal(layout.config.sharedRows, 0)
    assert.ok(layout.idRowCount.every((c) => c === 1))
  }
})

test('learned mappings carry their kind and tensor and keep the table seeds for unseen ids', async () => {
  const input = plantedInput({ users: 60, items: 80, blocks: 2, perUser: 8 }, 'user', 20)
  const l2c = await buildMapping('l2c', 'user', input)
  const baco = await buildMapping('baco', 'user', input)
  assert.deepEqual(l2c.config.learnedMapping, { kind: 'learned-hash', tensor: 'user_rows' })
  assert.deepEqual(baco.config.learnedMapping, { kind: 'co-cluster', tensor: 'user_rows' })
  assert.deepEqual(l2c.config.hash.seeds, tableSeeds(7, 'user'))
  assert.deepEqual(baco.config.hash.seeds, tableSeeds(7, 'user'))
})
