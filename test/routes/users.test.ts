import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp, dot, hammingScore, referenceTopK, type Problem } from '../app/helpers.js'
import { RecommendationResponseSchema } from '../../src/routes/schemas.js'

test('GET recommendations for a dedicated user with mips returns the exact inner-product top-k with ranks and titles', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 60, users: 10, bias: true } })
  const res = await app.inject({ method: 'GET', url: '/v1/users/u3/recommendations?k=7&method=mips' })
  assert.equal(res.statusCode, 200)
  const body = RecommendationResponseSchema.parse(res.json())
  const u = new Float32Array(model.dimension)
  assert.equal(model.userTable.resolveInto('u3', u), 'dedicated')
  const ref = referenceTopK(model.items.size, 7, (r) => dot(model, u, r))
  assert.deepEqual(body.items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
  body.items.forEach((item, i) => {
    assert.ok(Math.abs(item.score - ref.scores[i]) < 1e-4)
    assert.equal(item.rank, i + 1)
    assert.equal(item.title, `Item ${ref.rows[i]}`)
  })
  assert.equal(body.method, 'mips')
  assert.equal(body.source, 'dedicated')
  assert.equal(body.modelVersion, 'v1')
})

test('GET recommendations with method=hamming for a dedicated user ranks by the learned code', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 80, users: 5 } })
  const res = await app.inject({ method: 'GET', url: '/v1/users/u2/recommendations?k=10&method=hamming' })
  assert.equal(res.statusCode, 200)
  const body = RecommendationResponseSchema.parse(res.json())
  const code = model.userCodes.subarray(2 * model.codeWords, 3 * model.codeWords)
  const ref = referenceTopK(model.items.size, 10, (r) => hammingScore(model, code, r))
  assert.deepEqual(body.items.map((i) => i.score), ref.scores)
  for (const item of body.items) assert.equal(item.score, hammingScore(model, code, model.items.rowOf(item.id)!))
  assert.equal(body.method, 'hamming')
})

test('GET recommendations leaves out excluded ids and ignores ids outside the catalog', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 40 } })
  const first = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=5&method=mips' })).json())
  const drop = first.items.slice(0, 2).map((i) => i.id)
  const res = await app.inject({ method: 'GET', url: `/v1/users/u1/recommendations?k=5&method=mips&exclude=${drop.join(',')},not-an-item` })
  const body = RecommendationResponseSchema.parse(res.json())
  assert.equal(body.items.length, 5)
  for (const id of drop) assert.ok(!body.items.some((i) => i.id === id))
  assert.deepEqual(body.items.slice(0, 3).map((i) => i.id), first.items.slice(2).map((i) => i.id))
})

test('an unknown user id is served through the hashed tail (cold start) with a projected code', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { userShared: 32, projection: true } })
  const res = await app.inject({ method: 'GET', url: '/v1/users/new-visitor-42/recommendations?k=5&method=hybrid' })
  assert.equal(res.statusCode, 200)
  const body = RecommendationResponseSchema.parse(res.json())
  assert.equal(body.source, 'hashed')
  assert.equal(body.method, 'hybrid')
  assert.equal(body.fallback, undefined)
  const u = new Float32Array(model.dimension)
  assert.equal(model.userTable.resolveInto('new-visitor-42', u), 'hashed')
  // Hybrid re-ranks by inner product: the scores are the user's hashed vector against the items.
  for (const item of body.items) assert.ok(Math.abs(item.score - dot(model, u, model.items.rowOf(item.id)!)) < 1e-4)
})

test('a hashed-tail user asking for hamming on a model without a code projection is served by mips, and told so', async (t) => {
  const { app } = await createTestApp(t, { bundle: { userShared: 32, projection: false } })
  const body = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/someone-new/recommendations?method=hamming' })).json())
  assert.equal(body.requestedMethod, 'hamming')
  assert.equal(body.method, 'mips')
  assert.match(body.methodNote ?? '', /projection/)
  assert.equal(body.items.length, 10)
})

test('a user with no signal (no dedicated row, no shared rows) gets the popular items marked fallback popular', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { userShared: 0, popularity: true } })
  const res = await app.inject({ method: 'GET', url: '/v1/users/stranger/recommendations?k=4&exclude=' + model.items.idAt(model.popularItems[0]) })
  const body = RecommendationResponseSchema.parse(res.json())
  assert.equal(body.fallback, 'popular')
  assert.equal(body.method, 'popular')
  assert.equal(body.source, 'none')
  const expected = Array.from(model.popularItems.slice(1, 5), (r) => model.items.idAt(r))
  assert.deepEqual(body.items.map((i) => i.id), expected)
  assert.deepEqual(body.items.map((i) => i.rank), [1, 2, 3, 4])
  assert.ok(body.items[0].score > body.items[3].score)
})

test('GET recommendations rejects bad parameters with 400 problems naming each parameter', async (t) => {
  const { app } = await createTestApp(t)
  const cases: [string, string][] = [
    ['/v1/users/u1/recommendations?k=0', 'query.k'],
    ['/v1/users/u1/recommendations?k=1001', 'query.k'],
    ['/v1/users/u1/recommendations?k=2.5', 'query.k'],
    ['/v1/users/u1/recommendations?k=ten', 'query.k'],
    ['/v1/users/u1/recommendations?method=cosine', 'query.method'],
    ['/v1/users/u1/recommendations?ef=0', 'query.ef'],
    [`/v1/users/${'x'.repeat(257)}/recommendations`, 'path.userId'],
    // 86 three-byte characters: 86 characters but 258 bytes of UTF-8.
    [`/v1/users/${encodeURIComponent('€'.repeat(86))}/recommendations`, 'path.userId'],
    ['/v1/users/a%00b/recommendations', 'path.userId'],
    ['/v1/users/%E0%A4%A/recommendations', 'path'],
    [`/v1/users/u1/recommendations?exclude=ok,${'y'.repeat(300)}`, 'query.exclude.1'],
  ]
  for (const [url, name] of cases) {
    const res = await app.inject({ method: 'GET', url })
    assert.equal(res.statusCode, 400, url)
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/)
    const p = res.json() as Problem
    assert.equal(p.type, 'urn:hashrec:problem:invalid-parameters')
    assert.equal(p.status, 400)
    if (name !== 'path') assert.ok(p.invalidParams?.some((ip) => ip.name === name), `${url}: ${JSON.stringify(p.invalidParams)}`)
    assert.ok(!/at .*\.(ts|js):\d+/.test(res.body), 'no stack trace')
  }
})

test('an id of exactly 256 bytes is accepted', async (t) => {
  const { app } = await createTestApp(t, { bundle: { userShared: 8 } })
  const res = await app.inject({ method: 'GET', url: `/v1/users/${'z'.repeat(256)}/recommendations?k=1` })
  assert.equal(res.statusCode, 200)
})
