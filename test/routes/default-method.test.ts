import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createTestApp, TEST_TOKEN, type Problem } from '../app/helpers.js'
import { writeTestBundle, type TestBundleOptions } from '../helpers/bundle-fixture.js'
import { editManifest } from '../helpers/bundle-edit.js'
import { BatchResponseSchema, RecommendationResponseSchema } from '../../src/routes/schemas.js'

const auth = { authorization: `Bearer ${TEST_TOKEN}` }
// 2 layers of 6 nodes over 60 items, beam 3: Deep Retrieval scores part of the catalog, so its
// answer differs from the hybrid's (which re-ranks the whole small catalog exactly).
const DR_BUNDLE: TestBundleOptions = { items: 60, users: 6, dimension: 8, seen: true, deepRetrieval: { depth: 2, width: 6, pathsPerItem: 2, embeddingDimension: 3, beam: 3, seed: 5 } }

type Answer = ReturnType<typeof RecommendationResponseSchema.parse>

async function get (app: FastifyInstance, url: string): Promise<Answer> {
  const res = await app.inject({ method: 'GET', url })
  assert.equal(res.statusCode, 200, res.body)
  return RecommendationResponseSchema.parse(res.json())
}

async function post (app: FastifyInstance, payload: Record<string, unknown>): Promise<Answer> {
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload })
  assert.equal(res.statusCode, 200, res.body)
  return RecommendationResponseSchema.parse(res.json())
}

async function defaultMethod (app: FastifyInstance): Promise<string> {
  return ((await app.inject({ method: 'GET', url: '/v1/model' })).json() as { serving: { defaultMethod: string } }).serving.defaultMethod
}

const ids = (a: Answer): string[] => a.items.map((it) => it.id)

/** An omitted method and the explicit `method` give the same answer on every endpoint that takes one. */
async function assertOmittedIs (app: FastifyInstance, method: string): Promise<void> {
  const pairs: Array<[Answer, Answer]> = [
    [await get(app, '/v1/users/u1/recommendations?k=8'), await get(app, `/v1/users/u1/recommendations?k=8&method=${method}`)],
    [await get(app, '/v1/items/i3/similar?k=8'), await get(app, `/v1/items/i3/similar?k=8&method=${method}`)],
    [await post(app, { userId: 'u2', k: 8 }), await post(app, { userId: 'u2', k: 8, method })],
    [await post(app, { itemIds: ['i1', 'i4'], k: 8 }), await post(app, { itemIds: ['i1', 'i4'], k: 8, method })],
  ]
  for (const [omitted, explicit] of pairs) {
    assert.equal(omitted.method, method)
    assert.equal(omitted.requestedMethod, method)
    assert.equal(explicit.method, method)
    assert.deepEqual(ids(omitted), ids(explicit))
  }
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: [{ userId: 'u3', k: 8 }, { userId: 'u3', k: 8, method }] } })
  assert.equal(res.statusCode, 200, res.body)
  const [omitted, explicit] = BatchResponseSchema.parse(res.json()).results as Answer[]
  assert.equal(omitted.method, method)
  assert.deepEqual(ids(omitted), ids(explicit))
}

test('a bundle with serving.defaultMethod mips answers an omitted method by mips on every endpoint; GET /v1/model shows it', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 50, users: 8, serving: { defaultMethod: 'mips' } } })
  assert.equal(await defaultMethod(app), 'mips')
  await assertOmittedIs(app, 'mips')
})

test('a bundle with serving.defaultMethod dr answers an omitted method by Deep Retrieval, not the hybrid', async (t) => {
  const { app } = await createTestApp(t, { bundle: { ...DR_BUNDLE, serving: { defaultMethod: 'dr' } } })
  assert.equal(await defaultMethod(app), 'dr')
  await assertOmittedIs(app, 'dr')
  const dr = await get(app, '/v1/users/u1/recommendations?k=8')
  const hybrid = await get(app, '/v1/users/u1/recommendations?k=8&method=hybrid')
  assert.notDeepEqual(ids(dr), ids(hybrid), 'the fixture tells the two methods apart')
})

test('an explicit method wins over the bundle\'s default', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 50, users: 8, serving: { defaultMethod: 'mips' } } })
  for (const method of ['hybrid', 'hamming'] as const) {
    assert.equal((await get(app, `/v1/users/u1/recommendations?method=${method}`)).method, method)
    assert.equal((await get(app, `/v1/items/i1/similar?method=${method}`)).method, method)
    assert.equal((await post(app, { userId: 'u1', method })).method, method)
  }
})

test('a bundle without serving keeps hybrid as the default', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 50, users: 8 } })
  assert.equal(await defaultMethod(app), 'hybrid')
  await assertOmittedIs(app, 'hybrid')
})

test('reload of a bundle whose default is dr without a structure is a 422 naming the field; the old model keeps serving its default', async (t) => {
  const { app, root } = await createTestApp(t, { bundle: { items: 50, users: 8, serving: { defaultMethod: 'mips' } } })
  await writeTestBundle(join(root, 'v2'), { items: 50, users: 8, version: 'v2' })
  await editManifest(join(root, 'v2'), (m) => { m.serving = { defaultMethod: 'dr' } })
  const res = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })
  assert.equal(res.statusCode, 422, res.body)
  assert.match((res.json() as Problem).detail!, /serving\.defaultMethod.*Deep Retrieval/)
  const answer = await get(app, '/v1/users/u1/recommendations')
  assert.equal(answer.modelVersion, 'v1')
  assert.equal(answer.method, 'mips')
})

test('a reload swaps the default with the model; WARM_UP_METHOD unset warms the new model\'s default request', async (t) => {
  const counter = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN)
  const { app, root } = await createTestApp(t, { bundle: { items: 30, users: 8 } })
  await writeTestBundle(join(root, 'v2'), { items: 40, users: 8, version: 'v2', seed: 5, serving: { defaultMethod: 'mips' } })
  assert.equal((await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })).statusCode, 200)
  assert.equal(await defaultMethod(app), 'mips')
  const metrics = async (): Promise<string> => (await app.inject({ method: 'GET', url: '/metrics' })).body
  const before = await metrics()
  assert.equal(counter(before, 'hashrec_result_cache_total{result="warmed"}'), 8)
  // The omitted method and method=mips share one kept answer: both are hits.
  assert.equal((await get(app, '/v1/users/u1/recommendations')).method, 'mips')
  assert.equal((await get(app, '/v1/users/u2/recommendations?method=mips')).method, 'mips')
  const hits = await metrics()
  assert.equal(counter(hits, 'hashrec_result_cache_total{result="cached"}') - counter(before, 'hashrec_result_cache_total{result="cached"}'), 2)
  assert.equal(counter(hits, 'hashrec_result_cache_total{result="computed"}') - counter(before, 'hashrec_result_cache_total{result="computed"}'), 0)
  // The hybrid, no longer the default, was not warmed.
  assert.equal((await get(app, '/v1/users/u1/recommendations?method=hybrid')).method, 'hybrid')
  assert.equal(counter(await metrics(), 'hashrec_result_cache_total{result="computed"}') - counter(hits, 'hashrec_result_cache_total{result="computed"}'), 1)
})

test('WARM_UP_METHOD set warms that method whatever the model\'s default', async (t) => {
  const counter = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN)
  const { app, root } = await createTestApp(t, { bundle: { items: 30, users: 8 }, config: { WARM_UP_METHOD: 'hamming' } })
  await writeTestBundle(join(root, 'v2'), { items: 40, users: 8, version: 'v2', seed: 5, serving: { defaultMethod: 'mips' } })
  assert.equal((await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })).statusCode, 200)
  const before = (await app.inject({ method: 'GET', url: '/metrics' })).body
  await get(app, '/v1/users/u1/recommendations?method=hamming')
  await get(app, '/v1/users/u1/recommendations')
  const after = (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.equal(counter(after, 'hashrec_result_cache_total{result="cached"}') - counter(before, 'hashrec_result_cache_total{result="cached"}'), 1, 'the hamming answer was warmed')
  assert.equal(counter(after, 'hashrec_result_cache_total{result="computed"}') - counter(before, 'hashrec_result_cache_total{result="computed"}'), 1, 'the default (mips) answer was not')
})
