import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { eraOf, mergeEras } from '../../src/state/decay.js'
import { createMemoryStore, raiseInTop, topByScore } from '../../src/state/memory-store.js'
import { EVENT_TYPES } from '../../src/state/types.js'
import { seededRandom } from '../helpers/bundle-fixture.js'
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

test('memory store: exported parts stay near their size, never split a history, and import back to the same state', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 30 }),
    fc.array(fc.record({ user: fc.integer({ min: 0, max: 12 }), item: fc.integer({ min: 0, max: 15 }), dt: fc.integer({ min: -400, max: 400 }) }), { maxLength: 120 }),
    fc.array(fc.record({ item: fc.integer({ min: 0, max: 40 }), available: fc.option(fc.boolean(), { nil: undefined }), boost: fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined }) }), { maxLength: 30 }),
    (maxEntries, events, rules) => {
      const now = 1_800_000_000_000
      const source = createMemoryStore({ historyLength: 6, trendingHalfLifeSeconds: 60, now: () => now })
      // Timestamps span +-67 minutes and an era is 48 half-lives of 60 s: several eras to split.
      source.applyEvents(events.map((e) => ({ userId: `u${e.user}`, itemId: `i${e.item}`, type: 'view' as const, timestamp: now + e.dt * 10_000 })), now)
      source.setActive({ path: 'p', version: 'v', at: 'a' })
      for (const r of rules) source.patchRule(`i${r.item}`, { available: r.available ?? false, ...(r.boost === undefined ? {} : { boost: r.boost }) }, now)
      const parts = [...source.exportParts(maxEntries)]
      assert.ok(parts.length >= 1)
      const users = new Set<string>()
      for (const p of parts) {
        const entries = p.histories.reduce((a, [, , items]) => a + 1 + items.length, 0) + p.eras.reduce((a, [, scores]) => a + scores.length, 0) + p.rules.length
        // A part closes at maxEntries, overshooting by at most one history (<= 6 items + 1).
        assert.ok(entries <= maxEntries + 7, `${entries} entries > ${maxEntries} + 7`)
        for (const [user] of p.histories) { assert.ok(!users.has(user), `history of ${user} split`); users.add(user) }
        assert.deepEqual(p.active, { path: 'p', version: 'v', at: 'a' })
      }
      const copy = createMemoryStore({ historyLength: 6, trendingHalfLifeSeconds: 60, now: () => now })
      copy.importParts(parts)
      assert.deepEqual(copy.exportState(), source.exportState())
      assert.equal(copy.active?.version, 'v')
      assert.equal(copy.rules.version, source.rules.version)
      assert.deepEqual([...copy.rules.entries()], [...source.rules.entries()])
    },
  ), { numRuns: 200 })
  // An empty store is one empty part.
  assert.deepEqual([...createMemoryStore().exportParts(5)], [{ histories: [], eras: [], active: null, writes: 0, rules: [], rulesVersion: 0 }])
})

test('memory store: topByScore is a stable sort by score cut to n, for any scores, ties and n', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 6 })), { maxLength: 60 }),
    fc.integer({ min: 0, max: 70 }),
    (entries, n) => {
      const scores = new Map<string, number>()
      for (const [id, score] of entries) scores.set(`i${id}`, score / 2)
      assert.deepEqual(topByScore(scores, n), [...scores].sort((a, b) => b[1] - a[1]).slice(0, n))
    },
  ), { numRuns: 500 })
})

test('memory store: trending read between writes comes from the kept top list, and any write is seen by the next read', async () => {
  let t = 1_800_000_000_000
  const store = createMemoryStore({ now: () => t })
  const click = (itemId: string, n = 1) => store.recordEvents(Array.from({ length: n }, () => ({ userId: 'u', itemId, type: 'click' as const, timestamp: t })))
  await click('a', 3)
  await click('b', 2)
  const first = await store.trending(2)
  assert.deepEqual(first.map((x) => x.itemId), ['a', 'b'])
  assert.deepEqual(await store.trending(2), first)
  assert.deepEqual((await store.trending(1)).map((x) => x.itemId), ['a'], 'a smaller limit from the same list')
  await click('b', 2)
  assert.deepEqual((await store.trending(2)).map((x) => x.itemId), ['b', 'a'], 'a write in between is seen')
  await click('c', 9)
  assert.deepEqual((await store.trending(5)).map((x) => x.itemId), ['c', 'b', 'a'], 'a larger limit is computed afresh')
  t += 1000
  store.importParts([...store.exportParts(10)].map((p) => ({ ...p, eras: [] })))
  assert.deepEqual(await store.trending(3), [], 'an import replaces the kept lists too')
  await store.close()
})

test('memory store: trending after any writes equals trending recomputed from the stored scores (the kept top lists)', () => {
  const rand = seededRandom(99)
  const types = ['view', 'click', 'purchase', 'rating'] as const
  const halfLifeMs = 60_000
  let checks = 0
  for (let trial = 0; trial < 40; trial++) {
    let now = 1_800_000_000_000 + Math.floor(rand() * 1e9)
    const store = createMemoryStore({ trendingHalfLifeSeconds: halfLifeMs / 1000, now: () => now })
    const items = 2 + Math.floor(rand() * 60)
    const limit = 1 + Math.floor(rand() * 12)
    for (let step = 0; step < 300; step++) {
      // Equal timestamps and weights make exact ties common, the case the kept lists give up on.
      const timestamp = rand() < 0.5 ? now : now - Math.floor(rand() * 10) * 1000
      store.applyEvents([{ userId: 'u', itemId: `i${Math.floor(rand() * items)}`, type: types[Math.floor(rand() * 4)], timestamp }], now)
      if (rand() < 0.3) {
        const state = store.exportState()
        const era = eraOf(now, halfLifeMs)
        const scoresOf = (e: number): Map<string, number> => new Map(state.eras.find(([x]) => x === e)?.[1] ?? [])
        const expected = mergeEras(topByScore(scoresOf(era), 4 * limit), topByScore(scoresOf(era - 1), 4 * limit), now, era, halfLifeMs, limit)
        assert.deepEqual(store.now.trending(limit), expected, `trial ${trial} step ${step}`)
        checks++
      }
      // Time moves on, now and then across an era boundary (48 half-lives).
      if (rand() < 0.1) now += rand() < 0.05 ? 48 * halfLifeMs : Math.floor(rand() * 5000)
    }
  }
  assert.ok(checks > 3000)
})

test('memory store: a kept top list raised item by item equals topByScore over the scores, ties included', () => {
  const rand = seededRandom(7)
  let kept = 0
  let gaveUp = 0
  for (let trial = 0; trial < 200; trial++) {
    const scores = new Map<string, number>()
    const n = Math.floor(rand() * 8)
    let top = { n, list: topByScore(scores, n) }
    const items = 1 + Math.floor(rand() * 20)
    for (let step = 0; step < 100; step++) {
      const id = `i${Math.floor(rand() * items)}`
      const before = scores.get(id)
      // Small integer increments: exact ties at every position, the boundary included.
      const score = (before ?? 0) + 1 + Math.floor(rand() * 3)
      scores.set(id, score)
      if (raiseInTop(top, id, score, before === undefined)) {
        assert.deepEqual(top.list, topByScore(scores, n), `trial ${trial} step ${step}`)
        kept++
      } else {
        top = { n, list: topByScore(scores, n) }
        gaveUp++
      }
    }
  }
  // Ties are made common here on purpose; with real (continuous) boosts they are rare.
  assert.ok(kept > 4 * gaveUp, `kept ${kept}, gave up ${gaveUp}: the list survives most writes`)
})
