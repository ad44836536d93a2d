import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { createMemoryStore } from '../../src/state/memory-store.js'
import { EVENT_TYPES } from '../../src/state/types.js'
import { defineStoreSuite } from './store-suite.js'

defineStoreSuite('memory store', async (options) => {
  const store = createMemoryStore(options)
  return { store, cleanup: () => store.close() }
})

test('memory store: the capped history is what one sort per event would keep, whatever the order and ties of timestamps', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 5 }),
    fc.array(fc.record({ item: fc.integer({ min: 0, max: 9 }), ts: fc.integer({ min: 0, max: 6 }), type: fc.constantFrom(...EVENT_TYPES) }), { maxLength: 40 }),
    async (cap, events) => {
      const now = 1_800_000_000_000
      const store = createMemoryStore({ historyLength: cap, now: () => now })
      // The specification, spelled out: newest first, ties by id; over the cap, the last one goes.
      let naive: Array<[string, number]> = []
      const order = (a: [string, number], b: [string, number]): number => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)
      for (const e of events) {
        const id = `i${e.item}`
        const ts = now + e.ts
        await store.recordEvents([{ userId: 'u', itemId: id, type: e.type, timestamp: ts }])
        const at = naive.findIndex(([x]) => x === id)
        if (at >= 0) naive[at] = [id, Math.max(naive[at][1], ts)]
        else naive.push([id, ts])
        naive.sort(order)
        if (naive.length > cap) naive = naive.slice(0, cap)
        assert.deepEqual(await store.recentItems('u', 100), naive.map(([x]) => x))
      }
    },
  ), { numRuns: 300 })
})
