import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp, type Problem } from '../app/helpers.js'
import { buildApp } from '../../src/app.js'
import { createConfig } from '../../src/config.js'

test('healthz is 200 while the process runs, model or not; readyz is 503 until a model is loaded', async () => {
  const app = await buildApp({ config: createConfig({ VALIDATE_RESPONSES: 'true' }), model: null })
  try {
    assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' })
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(ready.statusCode, 503)
    assert.match(String(ready.headers['content-type']), /^application\/problem\+json/)
    const p = ready.json() as Problem & { checks: unknown[] }
    assert.equal(p.type, 'urn:hashrec:problem:not-ready')
    assert.match(p.detail ?? '', /no model loaded/)
  } finally {
    await app.close()
  }
})

test('readyz is 200 with a model, and 503 naming the dependency when a registered check fails', async (t) => {
  const { app } = await createTestApp(t)
  const ok = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), { status: 'ready', modelVersion: 'v1', checks: [] })
  let up = true
  app.readiness.add('redis', async () => { if (!up) throw new Error('connection refused') })
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  up = false
  const down = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(down.statusCode, 503)
  const p = down.json() as Problem & { checks: { name: string, ok: boolean, detail?: string }[] }
  assert.deepEqual(p.checks, [{ name: 'redis', ok: false, detail: 'connection refused' }])
  assert.match(p.detail ?? '', /redis: connection refused/)
})

test('a readiness check that never answers fails after its timeout', async (t) => {
  const { app } = await createTestApp(t)
  app.readiness.add('stuck', () => new Promise(() => {}))
  const started = performance.now()
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(res.statusCode, 503)
  assert.ok(performance.now() - started < 3000)
  assert.match(res.body, /no answer within/)
})

test('metrics expose process defaults, request durations by route template, recommendation latency and candidates by method', async (t) => {
  const { app } = await createTestApp(t)
  await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?method=hamming' })
  await app.inject({ method: 'GET', url: '/v1/users/u2/recommendations?method=mips' })
  await app.inject({ method: 'GET', url: '/v1/users/u2/recommendations?k=0' })
  await app.inject({ method: 'GET', url: '/no/such/route/12345' })
  await app.inject({ method: 'HEAD', url: '/healthz' })
  await app.inject({ method: 'GET', url: '/healthz' })
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  const text = res.body
  assert.match(text, /^process_cpu_user_seconds_total /m)
  assert.match(text, /^nodejs_eventloop_lag_seconds /m)
  assert.match(text, /http_request_duration_seconds_count\{route="\/v1\/users\/:userId\/recommendations",method="GET",status_code="200"\} 2/)
  assert.match(text, /http_request_duration_seconds_count\{route="\/v1\/users\/:userId\/recommendations",method="GET",status_code="400"\} 1/)
  assert.match(text, /http_request_duration_seconds_count\{route="unmatched",method="GET",status_code="404"\} 1/)
  // Each route observes through its own hook, fastify's HEAD twin of a GET route included; each request once.
  assert.match(text, /http_request_duration_seconds_count\{route="\/healthz",method="HEAD",status_code="200"\} 1/)
  assert.match(text, /http_request_duration_seconds_count\{route="\/healthz",method="GET",status_code="200"\} 1/)
  assert.doesNotMatch(text, /12345|route="\/v1\/users\/u1/, 'raw paths never become label values')
  assert.match(text, /hashrec_recommendation_duration_seconds_count\{method="hamming"\} 1/)
  assert.match(text, /hashrec_recommendation_duration_seconds_count\{method="mips"\} 1/)
  assert.match(text, /hashrec_candidates_examined_sum\{method="hamming"\} 50/)
  assert.match(text, /hashrec_model_info\{model_id="test-model",version="v1"\} 1/)
  assert.match(text, /hashrec_model_load_duration_seconds \d/)
  assert.match(text, /hashrec_model_items 50/)
})

test('two apps in one process keep separate metric registries', async (t) => {
  const a = await createTestApp(t)
  const b = await createTestApp(t)
  await a.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?method=hamming' })
  assert.doesNotMatch((await b.app.inject({ method: 'GET', url: '/metrics' })).body, /hashrec_recommendation_duration_seconds_count\{method="hamming"\}/)
})
