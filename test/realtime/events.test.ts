import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validateEvents } from '../../src/realtime/events.js'

const NOW = Date.parse('2026-11-22T12:00:00Z')
const known = (id: string): boolean => id.startsWith('item')

test('validateEvents accepts good events and reports each bad one with its index and reason', () => {
  const { accepted, rejected } = validateEvents([
    { userId: 'u1', itemId: 'item1', type: 'view' },
    { userId: 'u1', itemId: 'nope', type: 'click' },
    { userId: 'u1', itemId: 'item2', type: 'teleport' },
    { userId: 'x'.repeat(257), itemId: 'item1', type: 'view' },
    { userId: 'u\u0001', itemId: 'item1', type: 'view' },
    { userId: 'u2', itemId: 'item3', type: 'rating', value: 4.5, timestamp: '2026-11-22T11:00:00Z' },
    { userId: 'u2', itemId: 'item3', type: 'view', timestamp: NOW + 3600_000 },
    { userId: 'u2', itemId: 'item3', type: 'view', timestamp: 'yesterday' },
    { userId: 'u2', itemId: 'item3', type: 'view', extra: 1 },
    'not an object',
  ], known, NOW)
  assert.deepEqual(accepted, [
    { userId: 'u1', itemId: 'item1', type: 'view', timestamp: NOW },
    { userId: 'u2', itemId: 'item3', type: 'rating', value: 4.5, timestamp: NOW - 3600_000 },
  ])
  assert.deepEqual(rejected.map((r) => [r.index, r.reason]), [
    [1, 'unknown-item'], [2, 'malformed'], [3, 'oversized-id'], [4, 'bad-id'], [6, 'bad-timestamp'], [7, 'bad-timestamp'], [8, 'malformed'], [9, 'malformed'],
  ])
  assert.match(rejected[1].detail, /type/)
})

test('validateEvents counts id length in UTF-8 bytes, not characters', () => {
  const id = 'é'.repeat(128) // 256 bytes: allowed
  assert.equal(validateEvents([{ userId: id, itemId: 'item1', type: 'view' }], known, NOW).accepted.length, 1)
  const longer = 'é'.repeat(129) // 258 bytes
  assert.equal(validateEvents([{ userId: longer, itemId: 'item1', type: 'view' }], known, NOW).rejected[0].reason, 'oversized-id')
})
