import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { buildApp } from '../../src/app.js'
import { createConfig } from '../../src/config.js'
import { createTestApp, type Problem } from '../app/helpers.js'
import { deletePrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const redis = await testRedisUrl()
after(async () => { await redis?.release() })

const get = (key: string): { method: 'GET', url: string, headers: Record<string, string> } => ({ method: 'GET', url: '/v1/users/u1/recommendations?k=3', headers: { 'x-api-key': key } })

test('with RATE_LIMIT_MAX, a client key over its budget gets a 429 problem with Retry-After; other keys and health checks do not', async (t) => {
  const { app } = await createTestApp(t, { config: { RATE_LIMIT_MAX: 2, RATE_LIMIT_WINDOW_MS: 60_000 } })
  assert.equal((await app.inject(get('alice'))).statusCode, 200)
  assert.equal((await app.inject(get('alice'))).statusCode, 200)
  const limited = await app.inject(get('alice'))
  assert.equal(limited.statusCode, 429)
  assert.match(limited.headers['content-type'] as string, /^application\/problem\+json/)
  assert.equal((limited.json() as Problem).type, 'urn:hashrec:problem:rate-limited')
  assert.ok(Number(limited.headers['retry-after']) > 0)
  assert.equal((await app.inject(get('bob'))).statusCode, 200)
  for (let i = 0; i < 3; i++) assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
})

test('without RATE_LIMIT_MAX nothing is limited', async (t) => {
  const { app } = await createTestApp(t)
  for (let i = 0; i < 5; i++) assert.equal((await app.inject(get('alice'))).statusCode, 200)
})

test('with REDIS_URL the limit is shared by replicas', { skip: redis ? false : 'no Redis server reachable' }, async (t) => {
  const keyPrefix = uniquePrefix()
  t.after(() => deletePrefix(redis!.url, keyPrefix))
  const config = { RATE_LIMIT_MAX: 2, REDIS_URL: redis!.url, REDIS_KEY_PREFIX: keyPrefix }
  const { app: a, model, root } = await createTestApp(t, { config })
  const b = await buildApp({ config: createConfig({ MODELS_ROOT: root, VALIDATE_RESPONSES: 'true', ...config }), model })
  t.after(() => b.close())
  assert.equal((await a.inject(get('carol'))).statusCode, 200)
  assert.equal((await b.inject(get('carol'))).statusCode, 200)
  assert.equal((await a.inject(get('carol'))).statusCode, 429, 'the third request across both replicas is over the limit')
})
