import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp, dot, hammingScore, referenceTopK, type Problem } from '../app/helpers.js'
import { BatchResponseSchema, RecommendationResponseSchema } from '../../src/routes/schemas.js'
import { formatHexCode } from '../helpers/codes.js'
import { createFoldInScratch, foldInVector } from '../../src/realtime/fold-in.js'

test('POST with itemIds folds the items in: least-squares fold-in vector for mips, the items themselves excluded', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 50 } })
  const ids = ['i4', 'i9', 'i9', 'not-in-catalog']
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { itemIds: ids, k: 6, method: 'mips' } })
  assert.equal(res.statusCode, 200)
  const body = RecommendationResponseSchema.parse(res.json())
  const folded = new Float32Array(model.dimension)
  assert.equal(foldInVector(model, Int32Array.of(4, 9, 9), 3, folded, createFoldInScratch(model.dimension)), true)
  const ref = referenceTopK(model.items.size, 6, (r) => dot(model, folded, r), (r) => r === 4 || r === 9)
  assert.deepEqual(body.items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
  assert.equal(body.source, 'fold-in')
})

test('POST with itemIds and hamming ranks by the bitwise majority of the items\' codes (ties -> 1)', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 64, codeBits: 32 } })
  const rows = [1, 2, 3, 5]
  const code = new Uint32Array(1)
  for (let j = 0; j < 32; j++) {
    let ones = 0
    for (const r of rows) ones += (model.itemCodes[r] >>> j) & 1
    if (2 * ones >= rows.length) code[0] |= 1 << j
  }
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { itemIds: rows.map((r) => `i${r}`), k: 64, method: 'hamming' } })
  const body = RecommendationResponseSchema.parse(res.json())
  assert.equal(body.items.length, 60)
  for (const item of body.items) assert.equal(item.score, hammingScore(model, code, model.items.rowOf(item.id)!))
})

test('POST with a raw vector returns its inner-product top-k; a vector of the wrong dimension is a 422', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 30, dimension: 4 } })
  const vector = [0.5, -1, 0.25, 2]
  const body = RecommendationResponseSchema.parse((await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { vector, k: 3, method: 'mips' } })).json())
  const ref = referenceTopK(model.items.size, 3, (r) => dot(model, Float32Array.from(vector), r))
  assert.deepEqual(body.items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
  assert.equal(body.source, 'vector')
  const bad = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { vector: [1, 2, 3], k: 3 } })
  assert.equal(bad.statusCode, 422)
  const p = bad.json() as Problem
  assert.equal(p.type, 'urn:hashrec:problem:incompatible-query')
  assert.match(p.detail ?? '', /dimension is 4/)
})

test('POST with a hex code searches Hamming space; an item\'s own code finds the item first', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 40, codeBits: 64 } })
  const hex = formatHexCode(model.itemCodes, 64, 7 * model.codeWords)
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { code: hex.toUpperCase(), k: 3, method: 'hybrid' } })
  const body = RecommendationResponseSchema.parse(res.json())
  assert.equal(body.items[0].id, 'i7')
  assert.equal(body.items[0].score, 64)
  assert.equal(body.method, 'hamming')
  assert.match(body.methodNote ?? '', /code only/)
  const short = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { code: 'abcd' } })
  assert.equal(short.statusCode, 422)
})

test('POST with a userId answers exactly like the GET route', async (t) => {
  const { app } = await createTestApp(t)
  const get = (await app.inject({ method: 'GET', url: '/v1/users/u5/recommendations?k=4&method=hybrid' })).json()
  const post = (await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u5', k: 4 } })).json()
  assert.deepEqual(post, get)
})

test('POST bodies with no query, two queries, unknown fields or bad types are 400 problems', async (t) => {
  const { app } = await createTestApp(t)
  const bodies: unknown[] = [
    { k: 3 },
    { userId: 'u1', itemIds: ['i1'] },
    { userId: 'u1', extra: true },
    { itemIds: [] },
    { itemIds: 'i1' },
    { vector: [1, 'x'] },
    { code: 'zz' },
    { userId: 'u1', k: 0 },
    { userId: 'u1', method: 'dot' },
    { itemIds: Array.from({ length: 1001 }, (_, i) => `i${i}`) },
    [],
  ]
  for (const payload of bodies) {
    const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: payload as object })
    assert.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 80))
    assert.equal((res.json() as Problem).type, 'urn:hashrec:problem:invalid-parameters')
  }
})

test('batch answers up to 100 requests in order, with a per-request problem where one fails alone', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 30, dimension: 8 } })
  const requests = [
    { userId: 'u1', k: 2 },
    { itemIds: ['i3'], k: 3, method: 'mips' },
    { vector: [1, 2], k: 2 },
    { userId: 'u2', k: 1, method: 'hamming' },
  ]
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests } })
  assert.equal(res.statusCode, 200)
  const body = BatchResponseSchema.parse(res.json())
  assert.equal(body.results.length, 4)
  assert.equal(body.modelVersion, model.version)
  const single = (await app.inject({ method: 'POST', url: '/v1/recommendations', payload: requests[0] })).json()
  assert.deepEqual(body.results[0], single)
  assert.ok('items' in body.results[1] && body.results[1].items.length === 3 && body.results[1].source === 'fold-in')
  const failed = body.results[2]
  assert.ok('error' in failed)
  assert.equal(failed.error.type, 'urn:hashrec:problem:incompatible-query')
  assert.equal(failed.error.invalidParams?.[0].name, 'body.requests.2.vector')
  assert.ok('items' in body.results[3] && body.results[3].method === 'hamming')
})

test('batch with 0 or 101 requests, or an invalid entry, is a 400 naming the entry', async (t) => {
  const { app } = await createTestApp(t)
  for (const n of [0, 101]) {
    const res = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: Array.from({ length: n }, () => ({ userId: 'u1' })) } })
    assert.equal(res.statusCode, 400)
  }
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: [{ userId: 'u1' }, { userId: 'u1', k: 5000 }] } })
  assert.equal(res.statusCode, 400)
  assert.ok((res.json() as Problem).invalidParams?.some((p) => p.name === 'body.requests.1.k'))
  const full = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: Array.from({ length: 100 }, (_, i) => ({ userId: `u${i % 20}`, k: 1 })) } })
  assert.equal(full.statusCode, 200)
  assert.equal(BatchResponseSchema.parse(full.json()).results.length, 100)
})
