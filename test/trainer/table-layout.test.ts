import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { HybridTable } from '../../src/hashing/hybrid-table.js'
import { refreshVectors, type SideArrays } from '../../src/trainer/ials-core.js'
import { createTableLayout, frequencyOrder, planBudget, tableSeeds } from '../../src/trainer/table-layout.js'

function resolveThroughLayout (layout: ReturnType<typeof createTableLayout>, ids: number, params: Float32Array, d: number): Float32Array {
  const side = { ids, rows: layout.rows, idRowCount: layout.idRowCount, idRows: layout.idRows, params, vectors: new Float32Array(ids * d), gram: new Float64Array(d * d) } as unknown as SideArrays
  refreshVectors(side, d)
  return side.vectors
}

test('the trainer layout resolves every id exactly as the service HybridTable does', () => {
  fc.assert(fc.property(
    fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 60 }),
    fc.integer({ min: 0, max: 60 }),
    fc.integer({ min: 0, max: 20 }),
    fc.integer({ min: 0, max: 0xffffffff }),
    (ids, kRaw, shared, seed) => {
      const d = 4
      const counts = Float32Array.from(ids, (_, i) => (i * 7919) % 13)
      const k = Math.min(kRaw, ids.length)
      const layout = createTableLayout(ids, frequencyOrder(counts).slice(0, k), shared, tableSeeds(seed, 'item'))
      const params = Float32Array.from({ length: layout.rows * d }, (_, j) => Math.sin(j + 1))
      const viaLayout = resolveThroughLayout(layout, ids.length, params, d)
      const dict = new Map(Array.from(layout.dedicatedIds, (i, row) => [ids[i], row]))
      const table = new HybridTable({ config: layout.config, dimension: d, dedicated: params.subarray(0, k * d), shared: params.subarray(k * d), dedicatedRow: (id) => dict.get(id) })
      const out = new Float32Array(d)
      ids.forEach((id, i) => {
        const kind = table.resolveInto(id, out)
        assert.equal(kind, layout.idRowCount[i] === 1 ? 'dedicated' : layout.idRowCount[i] === 2 ? 'hashed' : 'none')
        assert.deepEqual(Array.from(viaLayout.subarray(i * d, (i + 1) * d)), Array.from(out))
      })
    },
  ), { seed: 3, numRuns: 150 })
})

test('dedicated ids use the same rows hashed or unhashed: the K most frequent own rows 0..K-1', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `id-${i}`)
  const counts = Float32Array.from(ids, (_, i) => (i * 31) % 17)
  const order = frequencyOrder(counts)
  const full = createTableLayout(ids, order, 0, [1, 2])
  const hashed = createTableLayout(ids, order.slice(0, 10), 8, [1, 2])
  for (let r = 0; r < 10; r++) {
    const id = order[r]
    assert.equal(hashed.idRowCount[id], 1)
    assert.equal(hashed.idRows[2 * id], full.idRows[2 * id])
    assert.equal(hashed.idRows[2 * id], r)
  }
  // Every shared row lists exactly the hashed ids that locate to it.
  let refs = 0
  for (let r = 10; r < hashed.rows; r++) refs += hashed.rowPtr[r + 1] - hashed.rowPtr[r]
  let expected = 0
  for (let i = 0; i < ids.length; i++) if (hashed.idRowCount[i] === 2) expected += hashed.idRows[2 * i] === hashed.idRows[2 * i + 1] ? 1 : 2
  assert.equal(refs, expected)
})

test('planBudget stays within the budget and gives every user a row when users fit', () => {
  const users = Float32Array.from({ length: 50 }, (_, i) => 100 - i)
  const items = Float32Array.from({ length: 950 }, (_, i) => 1000 / (i + 1))
  for (const b of [0.1, 0.25, 0.5, 1]) {
    const p = planBudget(users, items, b, 0.5)
    assert.ok(p.rows <= Math.floor(b * 1000) + 1, `budget ${b}: ${p.rows} rows`)
    assert.equal(p.userDedicated, 50)
    assert.equal(p.userShared, 0)
    assert.ok(p.itemShared > 0)
  }
  const tight = planBudget(Float32Array.from({ length: 500 }, () => 3), items, 0.1, 0.5)
  assert.ok(tight.userShared > 0 && tight.userDedicated < 500)
})
