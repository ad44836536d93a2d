import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CheckedLru, IDS, ROWS } from '../../src/recommend/checked-lru.js'
import { seededRandom } from '../helpers/bundle-fixture.js'

const NONE: readonly string[] = Object.freeze([])

test('CheckedLru under random puts, replacements and gets: within budget, bytes counted once, every hit the latest value for its key and inputs', () => {
  const rand = seededRandom(7)
  const probe = new CheckedLru<number, readonly string[]>(1 << 20, IDS)
  probe.put('k0', NONE, 0, 100)
  const overhead = probe.usedBytes - 2 * 'k0'.length - IDS.bytes(NONE) - 100
  const budget = 40 * probe.usedBytes
  const lru = new CheckedLru<number, readonly string[]>(budget, IDS)
  // What the cache must answer when it answers at all: the latest put per key (and its inputs).
  const latest = new Map<string, { value: number, inputs: readonly string[], bytes: number }>()
  let hits = 0
  for (let step = 0; step < 20_000; step++) {
    const key = `k${Math.floor(rand() ** 2 * 120)}`
    const inputs = rand() < 0.8 ? NONE : Object.freeze([`h${Math.floor(rand() * 3)}`])
    const r = rand()
    if (r < 0.55) {
      const got = lru.get(key, inputs)
      const want = latest.get(key)
      if (got !== undefined) {
        hits++
        assert.ok(want !== undefined && IDS.equal(want.inputs, inputs) && got === want.value, `step ${step}: a hit is the latest value for the same inputs`)
      }
    } else if (r < 0.995) {
      const valueBytes = 50 + Math.floor(rand() * 200)
      lru.put(key, inputs, step, valueBytes)
      latest.set(key, { value: step, inputs, bytes: valueBytes })
      // What was just put is kept (it fits the budget on its own).
      assert.equal(lru.get(key, inputs), step, `step ${step}: the entry just put is there`)
    } else {
      // Larger than the whole budget: not kept, and the key's older entry goes too.
      lru.put(key, inputs, step, budget)
      latest.delete(key)
      assert.equal(lru.get(key, inputs), undefined)
    }
    assert.ok(lru.usedBytes <= budget, `step ${step}: ${lru.usedBytes} bytes in a budget of ${budget}`)
  }
  // Bytes are the sum over the entries still kept (each counted once, however often replaced).
  let kept = 0
  let sum = 0
  for (const [key, e] of latest) {
    if (lru.get(key, e.inputs) === e.value) { kept++; sum += overhead + 2 * key.length + IDS.bytes(e.inputs) + e.bytes }
  }
  assert.equal(lru.size, kept)
  assert.equal(lru.usedBytes, sum)
  assert.ok(hits > 1000, `the workload hits (${hits})`)
})

test('CheckedLru spares what was read since the hand last passed, and evicts the oldest unread entry first', () => {
  const rows = Int32Array.of(1)
  const probe = new CheckedLru<string, Int32Array>(1 << 20, ROWS)
  probe.put('a', rows, 'A', 100)
  const entry = probe.usedBytes
  const lru = new CheckedLru<string, Int32Array>(3 * entry, ROWS)
  for (const k of ['a', 'b', 'c']) lru.put(k, rows, k.toUpperCase(), 100)
  lru.get('a', rows)
  lru.put('d', rows, 'D', 100) // a was read: spared; b is the oldest unread
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => lru.get(k, rows)), ['A', undefined, 'C', 'D'])
  assert.equal(lru.usedBytes, 3 * entry)

  // A replaced entry keeps its place and counts as read, so the next eviction takes another.
  const fresh = new CheckedLru<string, Int32Array>(3 * entry, ROWS)
  for (const k of ['a', 'b', 'c']) fresh.put(k, rows, k.toUpperCase(), 100)
  fresh.put('a', Int32Array.of(2), 'A2', 100)
  fresh.put('d', rows, 'D', 100)
  assert.deepEqual([fresh.get('a', Int32Array.of(2)), fresh.get('b', rows), fresh.get('c', rows), fresh.get('d', rows)], ['A2', undefined, 'C', 'D'])
  assert.equal(fresh.get('a', rows), undefined, 'the old inputs are gone')
  assert.equal(fresh.usedBytes, 3 * entry)
})

test('CheckedLru keeps a long run of distinct keys within budget with a ring no larger than it needs', () => {
  const lru = new CheckedLru<number, readonly string[]>(64 * 1024, IDS)
  for (let i = 0; i < 100_000; i++) {
    lru.put(`user-${i}`, NONE, i, 300)
    if (i % 3 === 0) lru.get(`user-${i - 1}`, NONE)
  }
  assert.ok(lru.usedBytes <= 64 * 1024)
  assert.equal(lru.get('user-99999', NONE), 99_999)
  const ring = (lru as unknown as { ring: unknown[] }).ring.length
  assert.ok(ring <= 4 * lru.size, `ring of ${ring} slots for ${lru.size} entries`)
})
