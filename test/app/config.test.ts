import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfig, workerCount } from '../../src/config.js'
import { usableCpus } from '../../src/util/cpus.js'

test('an empty environment gives the documented defaults', () => {
  const c = loadConfig({})
  assert.equal(c.PORT, 8080)
  assert.equal(c.HOST, '0.0.0.0')
  assert.equal(c.MODEL_DIR, 'models/default')
  assert.equal(c.MODELS_ROOT, 'models')
  assert.equal(c.ADMIN_TOKEN, undefined)
  assert.deepEqual(c.CORS_ORIGINS, [])
  assert.equal(c.BODY_LIMIT, 1024 * 1024)
  assert.equal(c.HYBRID_CANDIDATES, 200)
  assert.equal(c.HYBRID_CODES_PER_CANDIDATE, 8)
})

test('variables are parsed from strings; empty values count as unset; unrelated variables are ignored', () => {
  const c = loadConfig({ PORT: '9000', BODY_LIMIT: '4096', CORS_ORIGINS: 'https://a.example, http://localhost:3000,', ADMIN_TOKEN: '', HOME: '/root', REDIS_URL: 'redis://localhost:6379' })
  assert.equal(c.PORT, 9000)
  assert.equal(c.BODY_LIMIT, 4096)
  assert.deepEqual(c.CORS_ORIGINS, ['https://a.example', 'http://localhost:3000'])
  assert.equal(c.ADMIN_TOKEN, undefined)
  assert.equal(c.REDIS_URL, 'redis://localhost:6379')
})

test('a bad variable fails with a message naming it, and a bad token is not echoed', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ CORS_ORIGINS: 'not a url' }, /CORS_ORIGINS/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL/],
    [{ BODY_LIMIT: '10' }, /BODY_LIMIT/],
    [{ HYBRID_CODES_PER_CANDIDATE: '-1' }, /HYBRID_CODES_PER_CANDIDATE/],
    [{ HYBRID_CODES_PER_CANDIDATE: '2.5' }, /HYBRID_CODES_PER_CANDIDATE/],
    [{ RESULT_CACHE_BYTES: '-1' }, /RESULT_CACHE_BYTES/],
    // Caches past half the heap limit would have a healthy worker shed every request.
    [{ RESULT_CACHE_BYTES: String(600 * 2 ** 20) }, /RESULT_CACHE_BYTES \+ FOLD_IN_CACHE_BYTES .* half of MAX_HEAP_USED_BYTES/],
    [{ FOLD_IN_CACHE_BYTES: String(2 ** 30), MAX_HEAP_USED_BYTES: String(2 ** 31) }, /half of MAX_HEAP_USED_BYTES/],
  ]
  for (const [env, name] of cases) assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && name.test(err.message), JSON.stringify(env))
  assert.equal(loadConfig({ RESULT_CACHE_BYTES: String(600 * 2 ** 20), MAX_HEAP_USED_BYTES: '0' }).RESULT_CACHE_BYTES, 600 * 2 ** 20, 'no heap limit, no bound')
  assert.equal(loadConfig({ RESULT_CACHE_BYTES: String(2 ** 30), MAX_HEAP_USED_BYTES: String(2 ** 32) }).RESULT_CACHE_BYTES, 2 ** 30)
  assert.throws(() => loadConfig({ ADMIN_TOKEN: 'short-secret' }), (err: unknown) => err instanceof ConfigError && /ADMIN_TOKEN/.test(err.message) && !err.message.includes('short-secret'))
})

test('workerCount runs one process per usable CPU, with or without Redis, and an explicit WORKERS always', () => {
  assert.equal(workerCount(loadConfig({})), usableCpus())
  assert.equal(workerCount(loadConfig({}), () => 3), 3)
  assert.equal(workerCount(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }), () => 5), 5)
  assert.equal(workerCount(loadConfig({ WORKERS: '3' })), 3)
  assert.equal(workerCount(loadConfig({ WORKERS: '1', REDIS_URL: 'redis://127.0.0.1:6379' })), 1)
})
