/**
 * One behavioural suite for the real-time layer as the HTTP service exposes it: events, seen-item
 * exclusion, fold-in, trending and model announcements. It runs against the in-process store
 * (service-memory.test.ts) and a real Redis (service-redis.test.ts): replicas must not be able to
 * tell them apart.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { createConfig } from '../../src/config.js'
import type { Model } from '../../src/model-loader/model.js'
import { createFoldInScratch, foldInVector } from '../../src/realtime/fold-in.js'
import { EventsResponseSchema, RecommendationResponseSchema } from '../../src/routes/schemas.js'
import type { StateStore } from '../../src/state/types.js'
import { createTestApp, dot, hammingScore, referenceTopK, TEST_TOKEN } from '../app/helpers.js'
import { writeTestBundle, type TestBundleOptions } from '../helpers/bundle-fixture.js'

/** Shared state: every `open()` is another replica's connection to the same state. */
export type StateHarnessFactory = () => Promise<{ open: () => Promise<StateStore>, cleanup: () => Promise<void> }>

const BUNDLE: TestBundleOptions = { items: 40, users: 10, seen: true, popularity: true }

type Rec = ReturnType<typeof RecommendationResponseSchema.parse>

async function recommend (app: FastifyInstance, url: string): Promise<Rec> {
  const res = await app.inject({ method: 'GET', url })
  assert.equal(res.statusCode, 200, res.body)
  return RecommendationResponseSchema.parse(res.json())
}

async function postEvents (app: FastifyInstance, events: unknown[]): Promise<ReturnType<typeof EventsResponseSchema.parse>> {
  const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { events } })
  assert.equal(res.statusCode, 202, res.body)
  return EventsResponseSchema.parse(res.json())
}

function seenRows (model: Model, user: string): number[] {
  const row = model.users.rowOf(user)!
  return [...model.userSeen!.items.subarray(model.userSeen!.indptr[row], model.userSeen!.indptr[row + 1])]
}

function folded (model: Model, rows: number[]): Float32Array {
  const out = new Float32Array(model.dimension)
  assert.equal(foldInVector(model, Int32Array.from(rows), rows.length, out, createFoldInScratch(model.dimension)), true)
  return out
}

export function defineServiceSuite (name: string, factory: StateHarnessFactory | null): void {
  const it = (title: string, fn: (t: TestContext, open: () => Promise<StateStore>) => Promise<void>): void => {
    test(`${name}: ${title}`, { skip: factory === null ? 'no Redis server reachable and no redis-server binary' : false }, async (t) => {
      const harness = await factory!()
      t.after(harness.cleanup)
      await fn(t, harness.open)
    })
  }

  it('POST /v1/events answers 202 with the accepted count and each rejected event\'s index and reason', async (t, open) => {
    const { app } = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: await open() } })
    const body = await postEvents(app, [
      { userId: 'a', itemId: 'i1', type: 'view' },
      { userId: 'a', itemId: 'not-in-catalog', type: 'click' },
      { userId: 'a', itemId: 'i2', type: 'purchase', timestamp: Date.now() + 24 * 3600_000 },
      { userId: 'x'.repeat(300), itemId: 'i2', type: 'view' },
      { userId: 'a', itemId: 'i2', type: 'teleport' },
      { userId: 'a', itemId: 'i3', type: 'rating', value: 4, timestamp: new Date().toISOString() },
    ])
    assert.equal(body.accepted, 2)
    assert.deepEqual(body.rejected.map((r) => [r.index, r.reason]), [[1, 'unknown-item'], [2, 'bad-timestamp'], [3, 'oversized-id'], [4, 'malformed']])
    const empty = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [] } })
    assert.equal(empty.statusCode, 400)
    const tooMany = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: Array.from({ length: 1001 }, () => ({ userId: 'a', itemId: 'i1', type: 'view' })) } })
    assert.equal(tooMany.statusCode, 400)
  })

  it('excludeSeen (default true) leaves out the user\'s training items and, after an event, the new item too', async (t, open) => {
    const { app, model } = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: await open() } })
    const training = seenRows(model, 'u1')
    const before = await recommend(app, '/v1/users/u1/recommendations?k=40&method=mips')
    assert.equal(before.items.length, 40 - training.length)
    for (const r of training) assert.ok(!before.items.some((i) => i.id === `i${r}`), `training item i${r} excluded`)
    assert.equal(before.source, 'dedicated')
    const all = await recommend(app, '/v1/users/u1/recommendations?k=40&method=mips&excludeSeen=false')
    assert.equal(all.items.length, 40)
    const fresh = [...Array(40).keys()].find((r) => !training.includes(r))!
    await postEvents(app, [{ userId: 'u1', itemId: `i${fresh}`, type: 'click' }])
    const after = await recommend(app, '/v1/users/u1/recommendations?k=40&method=mips')
    assert.equal(after.items.length, 40 - training.length - 1)
    assert.ok(!after.items.some((i) => i.id === `i${fresh}`), 'the clicked item is excluded on the next request')
  })

  it('a dedicated user with a new event is folded in over training items plus history (source history)', async (t, open) => {
    const { app, model } = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: await open() } })
    const training = seenRows(model, 'u2')
    const fresh = [...Array(40).keys()].filter((r) => !training.includes(r)).slice(0, 2)
    await postEvents(app, fresh.map((r, i) => ({ userId: 'u2', itemId: `i${r}`, type: 'purchase', timestamp: Date.now() - 1000 + i })))
    const body = await recommend(app, '/v1/users/u2/recommendations?k=5&method=mips')
    assert.equal(body.source, 'history')
    assert.equal(body.degraded, undefined)
    const rows = [...training, ...fresh.reverse()]
    const u = folded(model, rows)
    const ref = referenceTopK(model.items.size, 5, (r) => dot(model, u, r), (r) => rows.includes(r))
    assert.deepEqual(body.items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
    body.items.forEach((item, i) => assert.ok(Math.abs(item.score - ref.scores[i]) < 1e-4))
  })

  it('a history of training items only keeps the learned row (no fold-in)', async (t, open) => {
    const { app, model } = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: await open() } })
    const training = seenRows(model, 'u3')
    await postEvents(app, [{ userId: 'u3', itemId: `i${training[0]}`, type: 'view' }])
    const body = await recommend(app, '/v1/users/u3/recommendations?k=5&method=mips')
    assert.equal(body.source, 'dedicated')
  })

  it('the first click personalizes a user the model has no row for: fold-in of the history alone, its code the items\' majority', async (t, open) => {
    const { app, model } = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: await open() } })
    const cold = await recommend(app, '/v1/users/newcomer/recommendations?k=5&method=mips')
    assert.equal(cold.source, 'none')
    assert.equal(cold.fallback, 'popular')
    await postEvents(app, [{ userId: 'newcomer', itemId: 'i7', type: 'click' }])
    const warm = await recommend(app, '/v1/users/newcomer/recommendations?k=5&method=mips')
    assert.equal(warm.source, 'history')
    assert.equal(warm.fallback, undefined)
    const u = folded(model, [7])
    const ref = referenceTopK(model.items.size, 5, (r) => dot(model, u, r), (r) => r === 7)
    assert.deepEqual(warm.items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
    // Hamming with a one-item history: the query code is that item's code, so its nearest codes come first.
    const ham = await recommend(app, '/v1/users/newcomer/recommendations?k=3&method=hamming')
    assert.equal(ham.method, 'hamming')
    const code7 = model.itemCodes.subarray(7 * model.codeWords, 8 * model.codeWords)
    const hamRef = referenceTopK(model.items.size, 3, (r) => hammingScore(model, code7, r), (r) => r === 7)
    assert.deepEqual(ham.items.map((i) => i.score), hamRef.scores)
    const post = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'newcomer', k: 5, method: 'mips' } })
    assert.deepEqual(RecommendationResponseSchema.parse(post.json()).items, warm.items, 'POST with userId sees the same history')
  })

  it('trending (type-weighted, time-decayed events) replaces popularity as the cold-start fallback', async (t, open) => {
    const { app, model } = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: await open() } })
    const now = Date.now()
    await postEvents(app, [
      { userId: 'a', itemId: 'i11', type: 'view', timestamp: now },
      { userId: 'b', itemId: 'i11', type: 'view', timestamp: now },
      { userId: 'c', itemId: 'i29', type: 'purchase', timestamp: now },
    ])
    const body = await recommend(app, '/v1/users/visitor/recommendations?k=5')
    assert.equal(body.fallback, 'trending')
    assert.equal(body.method, 'popular')
    assert.deepEqual(body.items.slice(0, 2).map((i) => i.id), ['i29', 'i11'])
    assert.ok(Math.abs(body.items[0].score - 5) < 0.01, `purchase weight 5, barely decayed: ${body.items[0].score}`)
    const popular = Array.from(model.popularItems, (r) => `i${r}`).filter((id) => id !== 'i29' && id !== 'i11')
    assert.deepEqual(body.items.slice(2).map((i) => i.id), popular.slice(0, 3), 'padded with the bundle\'s popularity order')
    const excluded = await recommend(app, '/v1/users/visitor/recommendations?k=5&exclude=i29')
    assert.equal(excluded.items[0].id, 'i11')
    const session = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { itemIds: ['not-in-catalog'], k: 2 } })
    const sessionBody = RecommendationResponseSchema.parse(session.json())
    assert.equal(sessionBody.fallback, 'trending', 'a session without catalog items falls back to trending too')
    assert.deepEqual(sessionBody.items.map((i) => i.id), ['i29', 'i11'])
  })

  it('without events the cold-start fallback is the bundle\'s popularity order', async (t, open) => {
    const { app, model } = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: await open() } })
    const body = await recommend(app, '/v1/users/visitor/recommendations?k=4')
    assert.equal(body.fallback, 'popular')
    assert.deepEqual(body.items.map((i) => i.id), Array.from(model.popularItems.slice(0, 4), (r) => `i${r}`))
  })

  it('two replicas on one state: an event on A excludes the item on B; a reload on A switches B', async (t, open) => {
    const a = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: await open() } })
    const b = await buildApp({ config: createConfig({ MODELS_ROOT: a.root, ADMIN_TOKEN: TEST_TOKEN, VALIDATE_RESPONSES: 'true' }), model: a.model, stateStore: await open() })
    t.after(() => b.close())
    const first = await recommend(b, '/v1/users/u4/recommendations?k=3&method=mips')
    await postEvents(a.app, [{ userId: 'u4', itemId: first.items[0].id, type: 'click' }])
    const next = await recommend(b, '/v1/users/u4/recommendations?k=3&method=mips')
    assert.ok(!next.items.some((i) => i.id === first.items[0].id), 'B excludes what was clicked on A')
    assert.equal(next.source, 'history')

    await writeTestBundle(join(a.root, 'v2'), { ...BUNDLE, version: 'v2', seed: 9 })
    const reload = await a.app.inject({ method: 'POST', url: '/admin/model/reload', headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: { dir: 'v2' } })
    assert.equal(reload.statusCode, 200, reload.body)
    assert.equal((reload.json() as { announced: boolean }).announced, true)
    const deadline = Date.now() + 5000
    while (b.modelStore.active?.model.version !== 'v2' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(b.modelStore.active?.model.version, 'v2')
    await a.app.realtime.settled()
    assert.equal(a.app.modelStore.active?.model.version, 'v2', 'A does not reload its own announcement again')
    const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body
    assert.match(metrics, /hashrec_model_reloads_total\{result="success"\} 1/)
    assert.match(metrics, /hashrec_events_total\{result="accepted"\} 1/)
  })

  it('an announcement naming a path outside the models root, or no bundle, is refused and the model keeps serving', async (t, open) => {
    const store = await open()
    const { app } = await createTestApp(t, { bundle: BUNDLE, app: { stateStore: store } })
    const refusedReloads = async (): Promise<number> => {
      const m = /hashrec_model_reloads_total\{result="refused"\} (\d+)/.exec((await app.inject({ method: 'GET', url: '/metrics' })).body)
      return m === null ? 0 : Number(m[1])
    }
    for (const [i, path] of ['../../etc', 'missing-dir'].entries()) {
      await store.publishActiveModel({ path, version: 'v7', at: new Date().toISOString() })
      const deadline = Date.now() + 3000
      while (await refusedReloads() < i + 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      await app.realtime.settled()
      assert.equal(await refusedReloads(), i + 1, `${path}: the reload is refused`)
      assert.equal(app.modelStore.active?.model.version, 'v1')
    }
  })
}
