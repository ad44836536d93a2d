import assert from 'node:assert/strict'
import { test } from 'node:test'
import { StateUnavailableError } from '../../src/state/errors.js'
import { createMemoryStore } from '../../src/state/memory-store.js'
import { createReplicationHub } from '../../src/state/replication-hub.js'
import { CHANNEL, type PrimaryMessage } from '../../src/state/replication.js'
import { openReplicatedStore, type ReplicaChannel } from '../../src/state/replicated-store.js'
import { EVENT_TYPES, type InteractionEvent } from '../../src/state/types.js'
import { fakeCluster, manualChannel } from './fake-cluster.js'
import { defineStoreSuite } from './store-suite.js'

// The shared contract, through a hub and a second replica that takes no part: the writer's own
// replica must answer every read as the in-process store does.
defineStoreSuite('replicated store', async (options) => {
  const cluster = fakeCluster(options)
  const store = await cluster.open(1)
  const other = await cluster.open(2)
  return { store, cleanup: async () => { await store.close(); await other.close() } }
})

const T0 = 1_800_000_000_000

function event (userId: string, itemId: string, dt = 0, type: InteractionEvent['type'] = 'view'): InteractionEvent {
  return { userId, itemId, type, timestamp: T0 + dt }
}

test('a write on one worker is read on the writer at once and on every other worker after its channel delivers it', async () => {
  const cluster = fakeCluster({ now: () => T0 })
  const a = await cluster.open(1)
  const b = await cluster.open(2)
  await a.recordEvents([event('u', 'x'), event('u', 'y', 1, 'purchase')])
  // Resolved only once applied here: read-your-writes on the worker that took the event.
  assert.deepEqual(await a.recentItems('u', 10), ['y', 'x'])
  await cluster.settle()
  assert.deepEqual(await b.recentItems('u', 10), ['y', 'x'])
  assert.deepEqual(await b.trending(5), await a.trending(5))
  assert.equal(a.seq, 1)
  assert.equal(b.seq, 1)
  await a.close()
  await b.close()
})

test('replicas that write concurrently converge to one state, the in-process store\'s for the same writes in the primary\'s order', async () => {
  let clock = T0
  const now = (): number => clock
  const cluster = fakeCluster({ now, historyLength: 5 })
  const stores = await Promise.all([1, 2, 3].map((id) => cluster.open(id)))
  const reference = createMemoryStore({ now, historyLength: 5 })
  // Deterministic pseudo-random writes from all three at once.
  let seed = 7
  const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  const applied: InteractionEvent[][] = []
  for (let round = 0; round < 20; round++) {
    clock += 1000
    const writes = stores.map(() => Array.from({ length: 1 + rand(4) }, () => event(`u${rand(6)}`, `i${rand(12)}`, rand(50_000), EVENT_TYPES[rand(4)])))
    await Promise.all(writes.map((w, i) => stores[i].recordEvents(w)))
    applied.push(...writes)
  }
  await cluster.settle()
  assert.deepEqual(stores.map((s) => s.seq), [60, 60, 60])
  for (const u of ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']) {
    const lists = await Promise.all(stores.map((s) => s.recentItems(u, 10)))
    assert.deepEqual(lists[1], lists[0], u)
    assert.deepEqual(lists[2], lists[0], u)
  }
  const trends = await Promise.all(stores.map((s) => s.trending(12)))
  assert.deepEqual(trends[1], trends[0])
  assert.deepEqual(trends[2], trends[0])
  // Trending is a sum, so any order of the same writes gives the in-process store's scores.
  for (const w of applied) reference.applyEvents(w, clock)
  const expected = await reference.trending(12)
  assert.deepEqual(trends[0].map((t) => t.itemId), expected.map((t) => t.itemId))
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(trends[0][i].score - expected[i].score) <= 1e-9 * expected[i].score)
  await Promise.all(stores.map((s) => s.close()))
})

test('a worker that starts late (or restarts) gets the state so far, then every write after it', async () => {
  const cluster = fakeCluster({ now: () => T0 })
  const a = await cluster.open(1)
  await a.recordEvents([event('u', 'x'), event('v', 'z')])
  await a.publishActiveModel({ path: 'v2', version: '2', at: 'then' })
  const late = await cluster.open(2)
  assert.equal(late.seq, 2)
  assert.deepEqual(await late.recentItems('u', 10), ['x'])
  assert.deepEqual(await late.getActiveModel(), { path: 'v2', version: '2', at: 'then' })
  await a.recordEvents([event('u', 'y', 5)])
  await cluster.settle()
  assert.deepEqual(await late.recentItems('u', 10), ['y', 'x'])
  await a.close()
  await late.close()
})

test('an active model published on one worker reaches every worker\'s listeners', async () => {
  const cluster = fakeCluster()
  const a = await cluster.open(1)
  const b = await cluster.open(2)
  const heard: string[] = []
  a.onActiveModel((m) => heard.push(`a:${m.version}`))
  b.onActiveModel((m) => heard.push(`b:${m.version}`))
  await a.publishActiveModel({ path: 'v3', version: '3', at: 'now', by: 'a' })
  await cluster.settle()
  assert.deepEqual(heard.sort(), ['a:3', 'b:3'])
  assert.equal((await b.getActiveModel())?.version, '3')
  await a.close()
  await b.close()
})

test('a write the primary does not acknowledge in time is refused as unavailable; a closed channel refuses at once', async () => {
  const cluster = fakeCluster()
  const a = await cluster.open(1, { writeTimeoutMs: 30 })
  const w = cluster.worker(1)
  w.drop = (m) => m.op === 'events'
  await assert.rejects(a.recordEvents([event('u', 'x')]), (err: unknown) => err instanceof StateUnavailableError && /did not acknowledge 1 event\(s\) within 30 ms/.test(err.message))
  w.connected = false
  await assert.rejects(a.recordEvents([event('u', 'x')]), (err: unknown) => err instanceof StateUnavailableError && /primary is gone/.test(err.message))
  assert.equal(await a.ping(), false)
  await assert.rejects(a.publishActiveModel({ path: 'p', version: 'v', at: 'x' }), StateUnavailableError)
  await a.close()
})

test('opening fails clearly when no primary answers', async () => {
  const silent: ReplicaChannel = { send () {}, onMessage: () => () => {}, connected: true }
  await assert.rejects(openReplicatedStore(silent, { id: 1, writeTimeoutMs: 10, startTimeoutMs: 20 }), /no state snapshot from the cluster primary within 20 ms/)
})

test('the hub parses what workers send: a malformed write is refused to its writer and applied nowhere', async () => {
  const sent: Array<[number, PrimaryMessage]> = []
  const logged: string[] = []
  const hub = createReplicationHub({ send: (id, m) => sent.push([id, m]), broadcast: (m) => sent.push([-1, m]), log: (msg) => logged.push(msg) })
  assert.equal(hub.handle(4, { some: 'other message' }), false)
  assert.equal(hub.handle(4, 'text'), false)
  assert.equal(hub.handle(4, { ch: CHANNEL, op: 'events', req: 9, events: [{ userId: 'u', itemId: 'x', type: 'teleport', timestamp: 1 }] }), true)
  assert.equal(hub.handle(4, { ch: CHANNEL, op: 'events', req: 10, events: [] }), true)
  assert.equal(hub.handle(4, { ch: CHANNEL, op: 'events', req: 11, events: [{ userId: '', itemId: 'x', type: 'view', timestamp: 1 }] }), true)
  assert.equal(hub.handle(4, { ch: CHANNEL, op: 'events', events: [{ userId: 'u', itemId: 'x', type: 'view', timestamp: 1, extra: true }] }), true)
  assert.deepEqual(sent.map(([id, m]) => [id, m.op, 'req' in m ? m.req : null]), [[4, 'refused', 9], [4, 'refused', 10], [4, 'refused', 11]])
  assert.equal(hub.seq, 0)
  assert.equal(logged.length, 4)
  hub.handle(4, { ch: CHANNEL, op: 'hello' })
  const snapshot = sent.at(-1)![1]
  assert.equal(snapshot.op, 'snapshot')
  assert.deepEqual(snapshot.op === 'snapshot' && snapshot.state.histories, [])
})

test('a replica rejects the write the primary refused, ignores malformed and foreign messages, and resynchronises after a gap', async () => {
  const { channel, outbox, deliver } = manualChannel()
  const logged: string[] = []
  const opening = openReplicatedStore(channel, { id: 1, writeTimeoutMs: 1000, log: (msg) => logged.push(msg) })
  const empty = { histories: [], eras: [], active: null, writes: 0, rules: [], rulesVersion: 0 }
  deliver({ ch: CHANNEL, op: 'snapshot', seq: 3, part: 0, last: true, state: empty })
  const store = await opening
  assert.deepEqual(outbox, [{ ch: CHANNEL, op: 'hello' }])

  const write = store.recordEvents([event('u', 'x')])
  assert.deepEqual(outbox[1], { ch: CHANNEL, op: 'events', req: 0, events: [{ userId: 'u', itemId: 'x', type: 'view', timestamp: T0 }] })
  deliver({ ch: CHANNEL, op: 'refused', req: 0, reason: 'bad' })
  await assert.rejects(write, /the cluster primary refused the write: bad/)

  deliver({ unrelated: true })
  deliver({ ch: CHANNEL, op: 'events', seq: 'four' })
  assert.deepEqual(logged, ['ignored a malformed state message from the primary'])
  // Already in the snapshot (seq <= 3): ignored.
  deliver({ ch: CHANNEL, op: 'events', seq: 3, t: T0, origin: 2, req: 0, events: [event('old', 'o')] })
  assert.deepEqual(await store.recentItems('old', 5), [])
  // seq 5 after 3: a gap, so the replica asks for a fresh snapshot and applies nothing until it comes.
  deliver({ ch: CHANNEL, op: 'events', seq: 5, t: T0, origin: 2, req: 0, events: [event('v', 'y')] })
  assert.deepEqual(outbox.at(-1), { ch: CHANNEL, op: 'hello' })
  assert.deepEqual(await store.recentItems('v', 5), [])
  deliver({ ch: CHANNEL, op: 'snapshot', seq: 5, part: 0, last: true, state: { ...empty, histories: [['v', T0 + 3_600_000_000, [['y', T0]]]] } })
  assert.equal(store.seq, 5)
  assert.deepEqual(await store.recentItems('v', 5), ['y'])
  await store.close()
})

test('what one turn sends travels as one frame, in order; a malformed frame is dropped whole', async () => {
  const { coalescing, unframe } = await import('../../src/state/replication.js')
  const frames: unknown[] = []
  const send = coalescing((f) => frames.push(f))
  send({ ch: CHANNEL, op: 'hello' })
  send({ ch: CHANNEL, op: 'events', req: 1, events: [] })
  send({ ch: CHANNEL, op: 'events', req: 2, events: [] })
  assert.equal(frames.length, 0, 'nothing is written before the turn ends')
  await new Promise((resolve) => setImmediate(resolve))
  send({ ch: CHANNEL, op: 'hello' })
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(frames, [
    { ch: CHANNEL, op: 'batch', msgs: [{ ch: CHANNEL, op: 'hello' }, { ch: CHANNEL, op: 'events', req: 1, events: [] }, { ch: CHANNEL, op: 'events', req: 2, events: [] }] },
    { ch: CHANNEL, op: 'hello' },
  ])
  assert.deepEqual(unframe(frames[0])!.map((m) => (m as { req?: number }).req), [undefined, 1, 2])
  assert.deepEqual(unframe(frames[1]), [frames[1]])
  assert.equal(unframe({ ch: CHANNEL, op: 'batch', msgs: 'not a list' }), null)
  assert.equal(unframe({ ch: CHANNEL, op: 'batch', msgs: [], extra: 1 }), null)

  // Through the hub: a frame of writes is applied in order, and a bad message in it refuses only itself.
  const sent: PrimaryMessage[] = []
  const hub = createReplicationHub({ send: (_id, m) => sent.push(m), broadcast: (m) => sent.push(m), now: () => T0 })
  hub.handle(3, { ch: CHANNEL, op: 'batch', msgs: [
    { ch: CHANNEL, op: 'events', req: 5, events: [event('u', 'a')] },
    null,
    { ch: CHANNEL, op: 'events', req: 6, events: [{ bad: true }] },
    { ch: CHANNEL, op: 'events', req: 7, events: [event('u', 'b', 1)] },
  ] })
  assert.deepEqual(sent.map((m) => [m.op, 'req' in m ? m.req : null, 'seq' in m ? m.seq : null]), [['events', 5, 1], ['refused', 6, null], ['events', 7, 2]])
  assert.equal(hub.handle(3, { ch: CHANNEL, op: 'batch', msgs: 5 }), true)
  assert.equal(hub.seq, 2)
})

test('a large state reaches a new worker as several snapshot parts, each its own frame, and arrives whole', async () => {
  const cluster = fakeCluster({ now: () => T0 }, undefined, 7)
  const a = await cluster.open(1)
  for (let u = 0; u < 30; u++) await a.recordEvents([event(`u${u}`, `x${u % 4}`), event(`u${u}`, `y${u % 5}`, 1)])
  const late = await cluster.open(2)
  const snapshots = cluster.worker(2).received.filter((m) => (m as { op?: string }).op === 'snapshot') as Array<{ part: number, last: boolean }>
  assert.ok(snapshots.length > 3, `${snapshots.length} parts`)
  assert.deepEqual(snapshots.map((s) => s.part), snapshots.map((_, i) => i))
  assert.deepEqual(snapshots.map((s) => s.last), snapshots.map((_, i) => i === snapshots.length - 1))
  for (let u = 0; u < 30; u++) assert.deepEqual(await late.recentItems(`u${u}`, 5), await a.recentItems(`u${u}`, 5))
  assert.deepEqual(await late.trending(10), await a.trending(10))
  assert.equal(late.seq, 30)
  await a.close()
  await late.close()
})

test('snapshot parts out of order are dropped and the replica asks again', async () => {
  const { channel, outbox, deliver } = manualChannel()
  const logged: string[] = []
  const opening = openReplicatedStore(channel, { id: 1, writeTimeoutMs: 1000, startTimeoutMs: 2000, log: (msg) => logged.push(msg) })
  const empty = { histories: [], eras: [], active: null, writes: 0, rules: [], rulesVersion: 0 }
  deliver({ ch: CHANNEL, op: 'snapshot', seq: 2, part: 1, last: true, state: empty })
  assert.deepEqual(logged, ['state snapshot parts out of order: asking again'])
  assert.deepEqual(outbox, [{ ch: CHANNEL, op: 'hello' }, { ch: CHANNEL, op: 'hello' }])
  deliver({ ch: CHANNEL, op: 'snapshot', seq: 2, part: 0, last: false, state: { ...empty, histories: [['u', T0 + 3_600_000_000, [['a', T0]]]] } })
  deliver({ ch: CHANNEL, op: 'snapshot', seq: 2, part: 1, last: true, state: { ...empty, histories: [['v', T0 + 3_600_000_000, [['b', T0]]]] } })
  const store = await opening
  assert.equal(store.seq, 2)
  assert.deepEqual(await store.recentItems('u', 5), ['a'])
  assert.deepEqual(await store.recentItems('v', 5), ['b'])
  await store.close()
})

test('opening waits as long as snapshot parts keep coming, and no longer than the wait after the last one', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { channel, deliver } = manualChannel()
  const empty = { histories: [], eras: [], active: null, writes: 0, rules: [], rulesVersion: 0 }
  let opened = false
  const opening = openReplicatedStore(channel, { id: 1, writeTimeoutMs: 100, startTimeoutMs: 60 }).then((s) => { opened = true; return s })
  // Four parts 40 ms apart: 160 ms in all, more than the 60 ms wait, less between any two.
  for (let part = 0; part < 4; part++) {
    t.mock.timers.tick(40)
    deliver({ ch: CHANNEL, op: 'snapshot', seq: 0, part, last: part === 3, state: empty })
  }
  const store = await opening
  assert.equal(opened, true)
  await store.close()
  let failure: unknown = null
  const stalled = openReplicatedStore(channel, { id: 1, writeTimeoutMs: 100, startTimeoutMs: 60 }).catch((err: unknown) => { failure = err })
  deliver({ ch: CHANNEL, op: 'snapshot', seq: 0, part: 0, last: false, state: empty })
  t.mock.timers.tick(59)
  await Promise.resolve()
  assert.equal(failure, null, 'still within the wait after the first part')
  t.mock.timers.tick(1)
  await stalled
  assert.match(String(failure), /no state snapshot from the cluster primary within 60 ms/)
})

test('a catalog rule patched on one worker is merged by the primary and applied on every worker, and a worker that starts later gets it in its snapshot', async () => {
  const cluster = fakeCluster({ now: () => T0 })
  const a = await cluster.open(1)
  const b = await cluster.open(2)
  // Two workers patch different fields of one item at once: the primary merges both.
  const [first, second] = await Promise.all([a.patchItemRule('i1', { available: false }), b.patchItemRule('i1', { tags: ['Noir'] })])
  assert.ok(first !== null && second !== null)
  await cluster.settle()
  for (const store of [a, b]) {
    assert.equal(store.rules.get('i1')?.available, false)
    assert.deepEqual(store.rules.get('i1')?.tags, ['Noir'])
    assert.equal(store.rules.version, 2)
  }
  assert.equal(a.rules.get('i1')?.updatedAt, new Date(T0).toISOString(), 'the primary\'s clock')
  const c = await cluster.open(3)
  assert.deepEqual(c.rules.get('i1'), a.rules.get('i1'))
  assert.equal(c.rules.version, 2)
  await Promise.all([a.close(), b.close(), c.close()])
})

test('a rule patch the primary cannot parse is refused on the worker and applied nowhere', async () => {
  const cluster = fakeCluster({ now: () => T0 })
  const a = await cluster.open(1)
  const b = await cluster.open(2)
  await assert.rejects(a.patchItemRule('i1', { boost: 5000 }), /refused/)
  await cluster.settle()
  assert.equal(a.rules.version, 0)
  assert.equal(b.rules.version, 0)
  await Promise.all([a.close(), b.close()])
})
