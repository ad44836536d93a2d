import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp, dot, referenceTopK, type Problem } from '../app/helpers.js'
import { RecommendationResponseSchema } from '../../src/routes/schemas.js'

// 2 layers of 6 nodes (36 paths) over 60 items, 2 paths each: a beam of 36 reaches every item.
const STRUCTURE = { depth: 2, width: 6, pathsPerItem: 2, embeddingDimension: 3, beam: 3, seed: 5 }
const BUNDLE = { items: 60, users: 6, dimension: 8, seen: true, deepRetrieval: STRUCTURE }

function userVector (model: Awaited<ReturnType<typeof createTestApp>>['model'], id: string): Float32Array {
  const v = new Float32Array(model.dimension)
  model.userTable.resolveInto(id, v)
  return v
}

test('method=dr with a beam covering every path answers a user exactly as exhaustive inner product, seen items excluded', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: BUNDLE })
  const res = await app.inject({ method: 'GET', url: '/v1/users/u2/recommendations?k=7&method=dr&beam=36' })
  assert.equal(res.statusCode, 200)
  const body = RecommendationResponseSchema.parse(res.json())
  const seen = new Set(model.userSeen!.items.subarray(model.userSeen!.indptr[2], model.userSeen!.indptr[3]))
  const q = userVector(model, 'u2')
  const ref = referenceTopK(60, 7, (r) => dot(model, q, r), (r) => seen.has(r))
  assert.deepEqual(body.items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
  assert.equal(body.method, 'dr')
  assert.equal(body.requestedMethod, 'dr')
  assert.equal(body.methodNote, undefined)
  assert.equal(body.candidatesExamined, 60 - seen.size)
})

test('method=dr at the bundle\'s beam scores part of the catalog; a session, a vector and a batch take dr and beam too', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: BUNDLE })
  const narrow = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=3&method=dr' })).json())
  assert.equal(narrow.method, 'dr')
  assert.ok(narrow.candidatesExamined < 60 && narrow.items.length === 3)
  const q = Array.from(userVector(model, 'u4'))
  const byVector = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { vector: q, k: 5, method: 'dr', beam: 36 } })
  const ref = referenceTopK(60, 5, (r) => dot(model, Float32Array.from(q), r))
  assert.deepEqual(RecommendationResponseSchema.parse(byVector.json()).items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
  const session = RecommendationResponseSchema.parse((await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { itemIds: ['i1', 'i2'], k: 4, method: 'dr', beam: 36 } })).json())
  assert.equal(session.method, 'dr')
  assert.ok(!session.items.some((i) => i.id === 'i1' || i.id === 'i2'))
  const batch = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: [{ userId: 'u0', k: 2, method: 'dr', beam: 2 }, { userId: 'u0', k: 2, method: 'dr', beam: 36 }] } })
  const results = (batch.json() as { results: unknown[] }).results.map((r) => RecommendationResponseSchema.parse(r))
  assert.ok(results[0].candidatesExamined < results[1].candidatesExamined)
})

test('similar items by dr list the item\'s inner-product neighbours, never the item itself', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: BUNDLE })
  const body = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/items/i9/similar?k=6&method=dr&beam=36&exclude=i3' })).json())
  const d = model.dimension
  const q = model.itemVectors.slice(9 * d, 10 * d)
  const ref = referenceTopK(60, 6, (r) => dot(model, q, r), (r) => r === 9 || r === 3)
  assert.deepEqual(body.items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
  assert.equal(body.method, 'dr')
  assert.equal(body.source, 'item')
})

test('a beam outside 1..1024 is a 400 problem naming the parameter, on every endpoint', async (t) => {
  const { app } = await createTestApp(t, { bundle: BUNDLE })
  for (const url of ['/v1/users/u1/recommendations?method=dr&beam=0', '/v1/users/u1/recommendations?beam=1025', '/v1/items/i1/similar?method=dr&beam=abc']) {
    const res = await app.inject({ method: 'GET', url })
    assert.equal(res.statusCode, 400, url)
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/)
    assert.ok((res.json() as Problem).invalidParams!.some((p) => p.name === 'query.beam'), url)
  }
  const body = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u1', method: 'dr', beam: 2000 } })
  assert.equal(body.statusCode, 400)
  assert.ok((body.json() as Problem).invalidParams!.some((p) => p.name === 'body.beam'))
})

test('a model without a structure serves method=dr by hybrid and says so; its engine info shows no structure', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 30, users: 4, projection: true } })
  const body = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=4&method=dr' })).json())
  assert.equal(body.method, 'hybrid')
  assert.equal(body.requestedMethod, 'dr')
  assert.match(body.methodNote!, /no Deep Retrieval structure: served by hybrid/)
  const info = (await app.inject({ method: 'GET', url: '/v1/model' })).json() as { search: { deepRetrieval: unknown } }
  assert.equal(info.search.deepRetrieval, null)
})

test('GET /v1/model describes the served structure', async (t) => {
  const { app } = await createTestApp(t, { bundle: BUNDLE })
  const info = (await app.inject({ method: 'GET', url: '/v1/model' })).json() as { search: { deepRetrieval: Record<string, number> } }
  assert.deepEqual({ depth: info.search.deepRetrieval.depth, width: info.search.deepRetrieval.width, defaultBeam: info.search.deepRetrieval.defaultBeam, maxBeam: info.search.deepRetrieval.maxBeam }, { depth: 2, width: 6, defaultBeam: 3, maxBeam: 1024 })
})

test('method=dr honours the request filters and pages: tagged items only, pages of one ranking', async (t) => {
  const { app } = await createTestApp(t, { bundle: BUNDLE })
  const tagged = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u3/recommendations?k=6&method=dr&tags=even&withTags=true' })).json())
  assert.equal(tagged.items.length, 6)
  for (const item of tagged.items) assert.ok(Number(item.id.slice(1)) % 2 === 0, item.id)
  const first = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u3/recommendations?k=4&method=dr&offset=0' })).json())
  const second = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u3/recommendations?k=4&method=dr&offset=4' })).json())
  const both = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u3/recommendations?k=8&method=dr&offset=0' })).json())
  assert.deepEqual([...first.items, ...second.items].map((i) => i.id), both.items.map((i) => i.id))
})
