/**
 * Filters, catalog rules, diversity, explanations and pages over HTTP, on test bundles whose
 * items i0, i1, ... are tagged `even` or `odd` by their number.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createTestApp, TEST_TOKEN, type Problem } from '../app/helpers.js'
import { writeTestBundle } from '../helpers/bundle-fixture.js'
import { ItemStateSchema, RecommendationResponseSchema } from '../../src/routes/schemas.js'

const METHODS = ['hybrid', 'hamming', 'mips'] as const
const auth = { authorization: `Bearer ${TEST_TOKEN}` }

async function recs (app: FastifyInstance, url: string): Promise<ReturnType<typeof RecommendationResponseSchema.parse>> {
  const res = await app.inject({ method: 'GET', url })
  assert.equal(res.statusCode, 200, res.body)
  return RecommendationResponseSchema.parse(res.json())
}

async function patch (app: FastifyInstance, itemId: string, body: unknown): Promise<{ statusCode: number, json: () => unknown }> {
  return app.inject({ method: 'PATCH', url: `/v1/items/${itemId}`, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
}

test('tags and excludeTags filter inside the search: full answers of matching items for every method; an unknown tag is an empty answer', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 80, users: 10, seen: true } })
  for (const method of METHODS) {
    const even = await recs(app, `/v1/users/u1/recommendations?k=20&method=${method}&tags=even&withTags=true`)
    assert.equal(even.items.length, 20, method)
    for (const item of even.items) {
      assert.equal(Number(item.id.slice(1)) % 2, 0, `${method}: ${item.id}`)
      assert.deepEqual(item.tags, ['even'])
    }
    const notEven = await recs(app, `/v1/users/u1/recommendations?k=20&method=${method}&excludeTags=even`)
    assert.equal(notEven.items.length, 20)
    for (const item of notEven.items) assert.equal(Number(item.id.slice(1)) % 2, 1)
    const similar = await recs(app, `/v1/items/i3/similar?k=10&method=${method}&tags=odd,nothing`)
    assert.equal(similar.items.length, 10)
    for (const item of similar.items) assert.ok(Number(item.id.slice(1)) % 2 === 1 && item.id !== 'i3')
  }
  const none = await recs(app, '/v1/users/u1/recommendations?tags=no-such-tag')
  assert.deepEqual(none.items, [])
})

test('allowedItemIds on a POST body: only those items (unknown ids ignored), with the other filters', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 40, users: 5, seen: true } })
  const allowed = ['i2', 'i5', 'i8', 'i9', 'i30', 'ghost']
  for (const method of METHODS) {
    const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u0', k: 10, method, allowedItemIds: allowed, excludeSeen: false } })
    const body = RecommendationResponseSchema.parse(res.json())
    assert.deepEqual(body.items.map((i) => i.id).sort(), ['i2', 'i30', 'i5', 'i8', 'i9'], method)
    const odd = RecommendationResponseSchema.parse((await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { itemIds: ['i1'], k: 10, method, allowedItemIds: allowed, tags: ['odd'] } })).json())
    assert.deepEqual(odd.items.map((i) => i.id).sort(), ['i5', 'i9'], method)
  }
})

test('bad listing input is a 400 problem: too many tags, offset or diversity out of range, offset + k past the paged depth, an empty allow list', async (t) => {
  const { app } = await createTestApp(t)
  const tooMany = Array.from({ length: 51 }, (_, i) => `t${i}`).join(',')
  for (const url of [`/v1/users/u1/recommendations?tags=${tooMany}`, '/v1/users/u1/recommendations?offset=-1', '/v1/users/u1/recommendations?offset=200', '/v1/users/u1/recommendations?offset=195&k=10', '/v1/users/u1/recommendations?diversity=1.5', '/v1/items/i1/similar?diversity=-0.1', '/v1/users/u1/recommendations?explain=yes']) {
    const res = await app.inject({ method: 'GET', url })
    assert.equal(res.statusCode, 400, url)
    assert.equal((res.json() as Problem).type, 'urn:hashrec:problem:invalid-parameters', url)
  }
  for (const payload of [{ userId: 'u1', allowedItemIds: [] }, { userId: 'u1', allowedItemIds: Array.from({ length: 1001 }, (_, i) => `i${i}`) }, { userId: 'u1', tags: 'Drama' }, { userId: 'u1', offset: 190, k: 20 }]) {
    const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload })
    assert.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 80))
  }
})

test('PATCH /v1/items/{id}: an unavailable item is never recommended (every method, similar items, sessions, the popular fallback); GET shows the rule; reset brings it back', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 30, users: 6, seen: true, popularity: true } })
  const first = await recs(app, '/v1/users/u2/recommendations?k=5&method=mips')
  const target = first.items[0].id
  const res = await patch(app, target, { available: false })
  assert.equal(res.statusCode, 200)
  const state = ItemStateSchema.parse(res.json())
  assert.equal(state.available, false)
  assert.equal(state.rule?.available, false)
  assert.deepEqual(ItemStateSchema.parse((await app.inject({ method: 'GET', url: `/v1/items/${target}` })).json()), state)
  for (const method of METHODS) {
    for (let u = 0; u < 6; u++) {
      const body = await recs(app, `/v1/users/u${u}/recommendations?k=30&method=${method}`)
      assert.ok(!body.items.some((i) => i.id === target), `${method} u${u}`)
    }
    assert.ok(!(await recs(app, `/v1/items/i0/similar?k=30&method=${method}`)).items.some((i) => i.id === target))
    const session = RecommendationResponseSchema.parse((await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { itemIds: ['i1'], k: 30, method } })).json())
    assert.ok(!session.items.some((i) => i.id === target))
  }
  const cold = await recs(app, '/v1/users/nobody-known/recommendations?k=30')
  assert.equal(cold.fallback, 'popular')
  assert.ok(!cold.items.some((i) => i.id === target))
  assert.equal(cold.items.length, 29)
  const reset = ItemStateSchema.parse((await patch(app, target, { available: true })).json())
  assert.equal(reset.rule, null)
  assert.ok((await recs(app, '/v1/users/u2/recommendations?k=5&method=mips')).items.some((i) => i.id === target))
})

test('PATCH refuses what it cannot apply whole: unknown item 404, malformed or empty patches and bad tags 400, a missing token 401; nothing changes', async (t) => {
  const { app } = await createTestApp(t)
  assert.equal((await patch(app, 'ghost', { available: false })).statusCode, 404)
  for (const body of [{}, { available: 'no' }, { boost: 1e6 }, { tags: ['ok', ''] }, { tags: ['a\u0001'] }, { available: false, colour: 'red' }, { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }]) {
    const res = await patch(app, 'i1', body)
    assert.equal(res.statusCode, 400, JSON.stringify(body))
  }
  const raw = await app.inject({ method: 'PATCH', url: '/v1/items/i1', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"available": fal' })
  assert.equal(raw.statusCode, 400)
  assert.equal((raw.json() as Problem).type, 'urn:hashrec:problem:malformed-body')
  const anonymous = await app.inject({ method: 'PATCH', url: '/v1/items/i1', payload: { available: false } })
  assert.equal(anonymous.statusCode, 401)
  const state = ItemStateSchema.parse((await app.inject({ method: 'GET', url: '/v1/items/i1' })).json())
  assert.equal(state.rule, null)
  assert.equal(state.available, true)
  assert.equal((await app.inject({ method: 'GET', url: '/v1/items/ghost' })).statusCode, 404)
})

test('a kept answer is never served once a catalog rule changed since it was computed', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 30, users: 4, seen: true } })
  const url = '/v1/users/u1/recommendations?k=5'
  const before = await recs(app, url)
  await recs(app, url)
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.match(metrics, /hashrec_result_cache_total\{result="cached"\} [1-9]/, 'the second request was a kept answer')
  await patch(app, before.items[2].id, { available: false })
  const after = await recs(app, url)
  assert.ok(!after.items.some((i) => i.id === before.items[2].id))
  assert.equal(after.items.length, 5)
})

test('tags set by a rule replace the model\'s for filters and withTags; rules survive a model reload', async (t) => {
  const { app, root } = await createTestApp(t, { bundle: { items: 30, users: 4, seen: true } })
  await writeTestBundle(join(root, 'v2'), { items: 30, users: 4, seen: true, version: 'v2', seed: 9 })
  await patch(app, 'i3', { tags: ['featured'] })
  await patch(app, 'i4', { available: false })
  const featured = await recs(app, '/v1/users/u1/recommendations?k=5&tags=featured&withTags=true&excludeSeen=false')
  assert.deepEqual(featured.items.map((i) => [i.id, i.tags]), [['i3', ['featured']]])
  assert.ok(!(await recs(app, '/v1/users/u1/recommendations?k=30&tags=odd&excludeSeen=false')).items.some((i) => i.id === 'i3'))
  const reload = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })
  assert.equal(reload.statusCode, 200, reload.body)
  assert.equal((await recs(app, '/v1/users/u1/recommendations?k=5&tags=featured&excludeSeen=false')).items[0]?.id, 'i3')
  assert.ok(!(await recs(app, '/v1/users/u1/recommendations?k=30&excludeSeen=false')).items.some((i) => i.id === 'i4'))
  const card = (await app.inject({ method: 'GET', url: '/v1/model' })).json() as { version: string, catalog: { rules: number, tags: { tag: string, items: number }[], exampleUserIds: string[] } }
  assert.equal(card.version, 'v2')
  assert.equal(card.catalog.rules, 2)
  assert.deepEqual(card.catalog.tags, [{ tag: 'even', items: 15 }, { tag: 'odd', items: 15 }])
  assert.equal(card.catalog.exampleUserIds.length, 4)
})

test('explain: a user\'s items are explained by the seen item they are closest to, fallbacks by their kind', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 30, users: 4, seen: true } })
  // Seen items of user u1 in the fixture: (u * 3 + j) mod items, j < 3.
  const seen = new Set(['i3', 'i4', 'i5'])
  for (const method of METHODS) {
    const body = await recs(app, `/v1/users/u1/recommendations?k=5&method=${method}&explain=true`)
    for (const item of body.items) {
      assert.equal(item.reason, 'similar')
      assert.ok(item.because !== undefined && seen.has(item.because.id), JSON.stringify(item))
      assert.equal(item.because?.title, `Item ${item.because!.id.slice(1)}`)
    }
  }
  const similar = await recs(app, '/v1/items/i7/similar?k=3&explain=true')
  for (const item of similar.items) assert.deepEqual(item.because, { id: 'i7', title: 'Item 7' })
  const cold = await recs(app, '/v1/users/stranger/recommendations?k=3&explain=true')
  for (const item of cold.items) assert.equal(item.reason, 'popular')
  const vector = RecommendationResponseSchema.parse((await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { vector: Array(8).fill(0.5), k: 3, explain: true } })).json())
  for (const item of vector.items) assert.equal(item.reason, 'profile')
  const plain = await recs(app, '/v1/users/u1/recommendations?k=3')
  for (const item of plain.items) assert.ok(!('reason' in item) && !('because' in item))
})

test('pages at offsets 0, k, 2k... of one ranking never repeat an item and make up the deeper page, for every method and with diversity and boosts', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 120, users: 6, seen: true } })
  await patch(app, 'i40', { boost: 3 })
  for (const method of METHODS) {
    for (const extra of ['', '&diversity=0.5', '&tags=odd']) {
      const seenIds: string[] = []
      for (let offset = 0; offset < 40; offset += 10) {
        const page = await recs(app, `/v1/users/u2/recommendations?k=10&offset=${offset}&method=${method}${extra}`)
        assert.deepEqual(page.items.map((i) => i.rank), Array.from({ length: page.items.length }, (_, i) => offset + i + 1))
        seenIds.push(...page.items.map((i) => i.id))
      }
      assert.equal(new Set(seenIds).size, seenIds.length, `${method}${extra}: no repeats`)
      const whole = await recs(app, `/v1/users/u2/recommendations?k=40&offset=0&method=${method}${extra}`)
      assert.deepEqual(seenIds, whole.items.map((i) => i.id), `${method}${extra}: the pages are the ranking`)
    }
  }
})

test('diversity re-ranks toward dissimilar items: a lower mean pairwise similarity, reported when asked', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 200, users: 6, seen: true } })
  for (const method of METHODS) {
    const plain = await recs(app, `/v1/users/u3/recommendations?k=10&method=${method}&measureDiversity=true`)
    const diverse = await recs(app, `/v1/users/u3/recommendations?k=10&method=${method}&diversity=0.8&measureDiversity=true`)
    assert.equal(typeof plain.meanPairwiseSimilarity, 'number')
    assert.ok(diverse.meanPairwiseSimilarity! < plain.meanPairwiseSimilarity!, `${method}: ${diverse.meanPairwiseSimilarity} < ${plain.meanPairwiseSimilarity}`)
    assert.equal(diverse.items[0].id, plain.items[0].id, 'the most relevant item stays first')
    const zero = await recs(app, `/v1/users/u3/recommendations?k=10&method=${method}&diversity=0`)
    assert.deepEqual(zero.items.map((i) => i.id), plain.items.map((i) => i.id), 'diversity 0 is the plain order')
  }
})

test('a boost raises an item among the retrieved candidates and the answer reports the boosted score', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 60, users: 4, seen: true } })
  const before = await recs(app, '/v1/users/u1/recommendations?k=10&method=mips')
  const lifted = before.items[7]
  await patch(app, lifted.id, { boost: 100 })
  const after = await recs(app, '/v1/users/u1/recommendations?k=10&method=mips')
  assert.equal(after.items[0].id, lifted.id)
  assert.ok(Math.abs(after.items[0].score - (lifted.score + 100)) < 1e-3)
})

test('GET /v1/model/eval.svg serves the bundle\'s evaluation chart, 404 when it has none', async (t) => {
  const { app, model } = await createTestApp(t)
  assert.equal((await app.inject({ method: 'GET', url: '/v1/model/eval.svg' })).statusCode, 404)
  const { app: second } = await createTestApp(t, { bundle: { version: 'v1' } })
  const dir = (second as unknown as { modelStore: { active: { model: { dir: string } } } }).modelStore.active.model.dir
  await writeFile(join(dir, 'eval.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  const res = await second.inject({ method: 'GET', url: '/v1/model/eval.svg' })
  assert.equal(res.statusCode, 200)
  assert.match(res.headers['content-type'] as string, /^image\/svg\+xml/)
  assert.match(res.body, /<svg/)
  assert.ok(model.dir !== dir)
})
