import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp } from './helpers.js'

test('configured origins get CORS headers and preflights; other origins get none', async (t) => {
  const { app } = await createTestApp(t, { config: { CORS_ORIGINS: 'https://shop.example' } })
  const ok = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations', headers: { origin: 'https://shop.example' } })
  assert.equal(ok.headers['access-control-allow-origin'], 'https://shop.example')
  assert.match(String(ok.headers['access-control-expose-headers']), /x-request-id/)
  const other = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations', headers: { origin: 'https://evil.example' } })
  assert.equal(other.headers['access-control-allow-origin'], undefined)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/recommendations', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
  assert.equal(preflight.statusCode, 204)
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://shop.example')
  assert.match(String(preflight.headers['access-control-allow-methods']), /POST/)
})

test('without configured origins no CORS headers are sent', async (t) => {
  const { app } = await createTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://shop.example' } })
  assert.equal(res.headers['access-control-allow-origin'], undefined)
})
