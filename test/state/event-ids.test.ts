import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { RecentEventIds } from '../../src/state/event-ids.js'

test('RecentEventIds remembers an id for its TTL, then takes it as new again', () => {
  const ids = new RecentEventIds(1000, 100)
  assert.equal(ids.claim('a', 0), true)
  assert.equal(ids.claim('a', 999), false)
  assert.equal(ids.claim('b', 500), true)
  assert.equal(ids.claim('a', 1000), true, 'expired at t + ttl')
  assert.equal(ids.claim('b', 1499), false)
  assert.equal(ids.size, 2)
  ids.claim('c', 5000)
  assert.equal(ids.size, 1, 'expired ids are forgotten as later ones are claimed')
})

test('RecentEventIds keeps at most its capacity, forgetting the oldest first', () => {
  const ids = new RecentEventIds(1e9, 3)
  for (const id of ['a', 'b', 'c', 'd']) assert.equal(ids.claim(id, 0), true)
  assert.equal(ids.size, 3)
  assert.equal(ids.claim('a', 1), true, 'the oldest was forgotten')
  assert.equal(ids.claim('d', 1), false)
})

test('RecentEventIds agrees with a plain list of (id, expiry) under random claims and clocks', () => {
  fc.assert(fc.property(fc.array(fc.record({ id: fc.integer({ min: 0, max: 6 }), dt: fc.integer({ min: 0, max: 40 }) }), { maxLength: 80 }), (steps) => {
    const ids = new RecentEventIds(60, 1000)
    const reference = new Map<string, number>()
    let t = 0
    for (const s of steps) {
      t += s.dt
      const id = `e${s.id}`
      const live = (reference.get(id) ?? -Infinity) > t
      assert.equal(ids.claim(id, t), !live)
      if (!live) reference.set(id, t + 60)
    }
  }), { seed: 3, numRuns: 200 })
})
