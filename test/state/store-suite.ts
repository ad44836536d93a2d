/**
 * One behavioural suite for every StateStore: the in-process store and Redis must agree.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { StateOptions, StateStore } from '../../src/state/types.js'

export type StoreFactory = (options: Partial<StateOptions>) => Promise<{ store: StateStore, cleanup: () => Promise<void> }>

const HOUR = 3600 * 1000

export function defineStoreSuite (name: string, make: StoreFactory | null): void {
  const it = (title: string, fn: (open: (o?: Partial<StateOptions>) => Promise<StateStore>) => Promise<void>): void => {
    test(`${name}: ${title}`, { skip: make === null ? 'no Redis server reachable and no redis-server binary' : false }, async (t) => {
      const open = async (o: Partial<StateOptions> = {}): Promise<StateStore> => {
        const { store, cleanup } = await make!(o)
        t.after(cleanup)
        return store
      }
      await fn(open)
    })
  }

  it('recentItems returns the newest distinct items first after recordEvents', async (open) => {
    const store = await open()
    const t0 = Date.now()
    await store.recordEvents([
      { userId: 'u1', itemId: 'a', type: 'view', timestamp: t0 },
      { userId: 'u1', itemId: 'b', type: 'click', timestamp: t0 + 1 },
      { userId: 'u1', itemId: 'a', type: 'purchase', timestamp: t0 + 2 },
      { userId: 'u2', itemId: 'z', type: 'view', timestamp: t0 },
    ])
    assert.deepEqual(await store.recentItems('u1', 10), ['a', 'b'])
    assert.deepEqual(await store.recentItems('u1', 1), ['a'])
    assert.deepEqual(await store.recentItems('u2', 10), ['z'])
    assert.deepEqual(await store.recentItems('nobody', 10), [])
  })

  it('a store that reads synchronously (StateStore.now) answers exactly as its asynchronous reads; Redis has no such view', async (open) => {
    const store = await open()
    assert.equal(store.now === undefined, store.kind === 'redis')
    if (store.now === undefined) return
    const t0 = Date.now()
    await store.recordEvents([
      { userId: 'u1', itemId: 'a', type: 'view', timestamp: t0 },
      { userId: 'u1', itemId: 'b', type: 'purchase', timestamp: t0 + 1 },
      { userId: 'u2', itemId: 'b', type: 'click', timestamp: t0 + 2 },
    ])
    for (const [user, limit] of [['u1', 10], ['u1', 1], ['u2', 5], ['nobody', 3]] as const) {
      assert.deepEqual(store.now.recentItems(user, limit), await store.recentItems(user, limit), `${user} ${limit}`)
    }
    // Scores decay with the clock, which may move between the two reads.
    const [sync, async] = [store.now.trending(5), await store.trending(5)]
    assert.deepEqual(sync.map((x) => x.itemId), ['b', 'a'])
    assert.deepEqual(async.map((x) => x.itemId), ['b', 'a'])
    for (let i = 0; i < sync.length; i++) assert.ok(Math.abs(sync[i].score - async[i].score) <= 1e-6 * async[i].score, `${sync[i].score} ${async[i].score}`)
  })

  it('a late event never moves an item back in the history', async (open) => {
    const store = await open()
    const t0 = Date.now()
    await store.recordEvents([{ userId: 'u', itemId: 'a', type: 'view', timestamp: t0 + 10 }, { userId: 'u', itemId: 'b', type: 'view', timestamp: t0 + 5 }])
    await store.recordEvents([{ userId: 'u', itemId: 'a', type: 'view', timestamp: t0 }])
    assert.deepEqual(await store.recentItems('u', 10), ['a', 'b'])
  })

  it('history is capped at historyLength, keeping the newest', async (open) => {
    const store = await open({ historyLength: 3 })
    const t0 = Date.now()
    await store.recordEvents(Array.from({ length: 6 }, (_, i) => ({ userId: 'u', itemId: `i${i}`, type: 'view' as const, timestamp: t0 + i })))
    assert.deepEqual(await store.recentItems('u', 10), ['i5', 'i4', 'i3'])
  })

  it('history expires historyTtlSeconds after the last event', async (open) => {
    const store = await open({ historyTtlSeconds: 1 })
    await store.recordEvents([{ userId: 'u', itemId: 'a', type: 'view', timestamp: Date.now() }])
    assert.deepEqual(await store.recentItems('u', 10), ['a'])
    await new Promise((resolve) => setTimeout(resolve, 1100))
    assert.deepEqual(await store.recentItems('u', 10), [])
  })

  it('trending ranks items by type-weighted, time-decayed counts', async (open) => {
    const now = 1_800_000_000_000
    const store = await open({ trendingHalfLifeSeconds: 3600, now: () => now })
    await store.recordEvents([
      // x: one purchase (5) now; y: three views (3) now; old: eight views two half-lives ago (8/4 = 2)
      { userId: 'a', itemId: 'x', type: 'purchase', timestamp: now },
      ...Array.from({ length: 3 }, () => ({ userId: 'b', itemId: 'y', type: 'view' as const, timestamp: now })),
      ...Array.from({ length: 8 }, () => ({ userId: 'c', itemId: 'old', type: 'view' as const, timestamp: now - 2 * HOUR })),
    ])
    const top = await store.trending(10)
    assert.deepEqual(top.map((t) => t.itemId), ['x', 'y', 'old'])
    assert.ok(Math.abs(top[0].score - 5) < 1e-6)
    assert.ok(Math.abs(top[2].score - 2) < 1e-6, `old events decay by half per half-life: ${top[2].score}`)
    assert.deepEqual((await store.trending(1)).map((t) => t.itemId), ['x'])
  })

  it('trending follows every write, and decays between reads with no write in between', async (open) => {
    let now = 1_800_000_000_000
    const store = await open({ trendingHalfLifeSeconds: 3600, now: () => now })
    await store.recordEvents([
      { userId: 'a', itemId: 'x', type: 'view', timestamp: now },
      ...Array.from({ length: 2 }, () => ({ userId: 'b', itemId: 'y', type: 'view' as const, timestamp: now })),
    ])
    const scores = async (): Promise<Array<[string, number]>> => (await store.trending(10)).map((t) => [t.itemId, Math.round(t.score * 1e6) / 1e6])
    assert.deepEqual(await scores(), [['y', 2], ['x', 1]])
    assert.deepEqual(await scores(), [['y', 2], ['x', 1]], 'a second read without a write')
    now += HOUR
    assert.deepEqual(await scores(), [['y', 1], ['x', 0.5]], 'one half-life later, nothing written')
    await store.recordEvents([{ userId: 'c', itemId: 'x', type: 'purchase', timestamp: now }])
    assert.deepEqual(await scores(), [['x', 5.5], ['y', 1]], 'the write reorders the next read')
  })

  it('trending carries scores across an era boundary', async (open) => {
    const halfLife = 60
    const eraMs = 48 * halfLife * 1000
    const now = 1000 * eraMs + 1000 // just after an era starts
    const store = await open({ trendingHalfLifeSeconds: halfLife, now: () => now })
    await store.recordEvents([
      { userId: 'a', itemId: 'before', type: 'view', timestamp: now - 2000 },
      { userId: 'a', itemId: 'after', type: 'view', timestamp: now },
    ])
    const top = await store.trending(5)
    const before = top.find((t) => t.itemId === 'before')
    assert.ok(before, 'the previous era is merged in')
    assert.ok(Math.abs(before.score - 2 ** (-2 / 60)) < 1e-6)
  })

  it('publishActiveModel records the model and announces it to listeners', async (open) => {
    const store = await open()
    assert.equal(await store.getActiveModel(), null)
    const seen = new Promise<unknown>((resolve) => { store.onActiveModel(resolve) })
    const active = { path: 'default', version: 'v2', at: new Date().toISOString() }
    await store.publishActiveModel(active)
    assert.deepEqual(await seen, active)
    assert.deepEqual(await store.getActiveModel(), active)
  })

  it('patchItemRule merges a patch into the item\'s rule (null back to the default; a rule of defaults only is removed) and the rule book shows it at once, one version per change', async (open) => {
    const store = await open()
    const v0 = store.rules.version
    assert.equal(store.rules.get('i1'), undefined)
    const off = await store.patchItemRule('i1', { available: false })
    assert.equal(off?.available, false)
    assert.deepEqual(store.rules.get('i1'), off)
    const tagged = await store.patchItemRule('i1', { tags: ['Drama', 'Drama', 'Noir'], boost: 2.5 })
    assert.deepEqual({ ...tagged, updatedAt: undefined }, { available: false, tags: ['Drama', 'Noir'], boost: 2.5, updatedAt: undefined })
    assert.ok(!Number.isNaN(Date.parse(tagged!.updatedAt)))
    const back = await store.patchItemRule('i1', { available: true, boost: null })
    assert.deepEqual(back?.tags, ['Drama', 'Noir'])
    assert.equal(back?.available, undefined)
    assert.equal(back?.boost, undefined)
    assert.equal(await store.patchItemRule('i1', { tags: null }), null)
    assert.equal(store.rules.get('i1'), undefined)
    assert.equal(store.rules.version, v0 + 4)
    // Empty tags are a rule of their own: the item matches no tag filter.
    assert.deepEqual((await store.patchItemRule('i2', { tags: [] }))?.tags, [])
  })

  it('concurrent patches of different fields of one item both land', async (open) => {
    const store = await open()
    await Promise.all([store.patchItemRule('x', { available: false }), store.patchItemRule('x', { boost: -3 }), store.patchItemRule('y', { tags: ['a'] })])
    const rule = store.rules.get('x')
    assert.equal(rule?.available, false)
    assert.equal(rule?.boost, -3)
    assert.deepEqual(store.rules.get('y')?.tags, ['a'])
  })

  it('ping answers true when the store is up', async (open) => {
    const store = await open()
    assert.equal(await store.ping(), true)
  })
}
