import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp, dot, referenceTopK, type Problem } from '../app/helpers.js'
import { RecommendationResponseSchema } from '../../src/routes/schemas.js'

test('similar items are the item\'s inner-product neighbours with the item itself excluded', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 40 } })
  const res = await app.inject({ method: 'GET', url: '/v1/items/i12/similar?k=5&method=mips' })
  assert.equal(res.statusCode, 200)
  const body = RecommendationResponseSchema.parse(res.json())
  const d = model.dimension
  const q = model.itemVectors.slice(12 * d, 13 * d)
  const ref = referenceTopK(model.items.size, 5, (r) => dot(model, q, r), (r) => r === 12)
  assert.deepEqual(body.items.map((i) => i.id), ref.rows.map((r) => `i${r}`))
  assert.equal(body.source, 'item')
})

test('similar items never list the item itself, for every method, even when k covers the catalog', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 20 } })
  for (const method of ['hamming', 'mips', 'hybrid']) {
    const body = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: `/v1/items/i3/similar?k=100&method=${method}&exclude=i4` })).json())
    assert.equal(body.items.length, 18, method)
    assert.ok(!body.items.some((i) => i.id === 'i3' || i.id === 'i4'), method)
  }
})

test('similar items for an unknown item is a 404 unknown-item problem', async (t) => {
  const { app } = await createTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/v1/items/nope/similar' })
  assert.equal(res.statusCode, 404)
  assert.match(res.headers['content-type'] as string, /^application\/problem\+json/)
  const p = res.json() as Problem
  assert.equal(p.type, 'urn:hashrec:problem:unknown-item')
  assert.equal(p.instance, '/v1/items/nope/similar')
})

test('items without titles are listed without a title field', async (t) => {
  const { app } = await createTestApp(t, { bundle: { titles: false } })
  const body = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/items/i1/similar?k=3' })).json())
  assert.equal(body.items.length, 3)
  for (const item of body.items) assert.ok(!('title' in item))
})
