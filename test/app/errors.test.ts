import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp, type Problem } from './helpers.js'
import { buildApp } from '../../src/app.js'
import { createConfig } from '../../src/config.js'

function assertProblem (res: { statusCode: number, headers: Record<string, unknown>, body: string }, status: number, type: string): Problem {
  assert.equal(res.statusCode, status, res.body)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  const p = JSON.parse(res.body) as Problem
  assert.equal(p.type, `urn:hashrec:problem:${type}`)
  assert.equal(p.status, status)
  assert.equal(typeof p.title, 'string')
  assert.ok(!/\n\s+at /.test(res.body), 'no stack trace')
  return p
}

test('a body over BODY_LIMIT is a 413 problem', async (t) => {
  const { app } = await createTestApp(t, { config: { BODY_LIMIT: 2048 } })
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { itemIds: Array.from({ length: 400 }, (_, i) => `item-${i}`) } })
  assertProblem(res, 413, 'payload-too-large')
})

test('a body that is not JSON is a 415 problem; malformed or empty JSON is a 400 problem', async (t) => {
  const { app } = await createTestApp(t)
  assertProblem(await app.inject({ method: 'POST', url: '/v1/recommendations', headers: { 'content-type': 'text/plain' }, payload: 'userId=u1' }), 415, 'unsupported-media-type')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/recommendations', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'userId=u1' }), 415, 'unsupported-media-type')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/recommendations', headers: { 'content-type': 'application/json' }, payload: '{"userId": "u1",' }), 400, 'malformed-body')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/recommendations', headers: { 'content-type': 'application/json' }, payload: '' }), 400, 'malformed-body')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/recommendations', headers: { 'content-type': 'application/json' }, payload: '{"__proto__": {"x": 1}, "userId": "u1"}' }), 400, 'malformed-body')
})

test('an unknown route is a 404 not-found problem, and a problem carries the request id of the x-request-id header', async (t) => {
  const { app } = await createTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/v2/whatever?x=1', headers: { 'x-request-id': 'req-abc.123' } })
  const p = assertProblem(res, 404, 'not-found')
  assert.equal(p.requestId, 'req-abc.123')
  assert.equal(res.headers['x-request-id'], 'req-abc.123')
  assert.equal(p.instance, '/v2/whatever')
  const odd = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\twith spaces' } })
  const made = String(odd.headers['x-request-id'])
  assert.match(made, /^[A-Za-z0-9_-]{12}-[0-9a-z]+$/, 'an invalid id is replaced by one of ours')
  const next = String((await app.inject({ method: 'GET', url: '/healthz' })).headers['x-request-id'])
  assert.notEqual(next, made)
  assert.equal(next.slice(0, 13), made.slice(0, 13), 'one random prefix per app, then a counter')
  const other = String((await (await createTestApp(t)).app.inject({ method: 'GET', url: '/healthz' })).headers['x-request-id'])
  assert.notEqual(other.slice(0, 13), made.slice(0, 13), 'another app (worker, replica, restart) draws its own prefix')
})

test('an unexpected failure is a generic 500 problem without the error\'s message or stack', async (t) => {
  const { app } = await createTestApp(t, {
    app: { createEngines: () => ({ hamming: () => { throw new Error('secret internal detail') }, mips: () => { throw new Error('secret internal detail') }, hybrid: () => { throw new Error('secret internal detail') } }) },
  })
  const res = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' })
  const p = assertProblem(res, 500, 'internal')
  assert.ok(!res.body.includes('secret'))
  assert.equal(p.detail, 'the error was logged with this request id')
})

test('recommendation routes answer 503 not-ready while no model is loaded', async () => {
  const app = await buildApp({ config: createConfig({ VALIDATE_RESPONSES: 'true' }), model: null })
  try {
    assertProblem(await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' }), 503, 'not-ready')
    assertProblem(await app.inject({ method: 'GET', url: '/v1/model' }), 503, 'not-ready')
    assertProblem(await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u1' } }), 503, 'not-ready')
  } finally {
    await app.close()
  }
})
