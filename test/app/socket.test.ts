import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp } from './helpers.js'
import { RecommendationResponseSchema } from '../../src/routes/schemas.js'

test('over a real socket: recommendations, a keep-alive second request, and a problem for a bad one', async (t) => {
  const { app } = await createTestApp(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const res = await fetch(`${address}/v1/users/u1/recommendations?k=3`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.ok(res.headers.get('x-request-id'))
  const body = RecommendationResponseSchema.parse(await res.json())
  assert.equal(body.items.length, 3)
  const post = await fetch(`${address}/v1/recommendations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ itemIds: ['i1'], k: 2 }) })
  assert.equal(post.status, 200)
  assert.equal(RecommendationResponseSchema.parse(await post.json()).items.length, 2)
  const bad = await fetch(`${address}/v1/users/u1/recommendations?k=-1`)
  assert.equal(bad.status, 400)
  assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/)
})
