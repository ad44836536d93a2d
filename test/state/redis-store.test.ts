import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Redis } from 'ioredis'
import { StateUnavailableError } from '../../src/state/errors.js'
import { createRedisStore } from '../../src/state/redis-store.js'
import { deletePrefix, hasRedisServerBinary, startThrowawayRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { defineStoreSuite } from './store-suite.js'

const redis = await testRedisUrl()
after(async () => { await redis?.release() })

defineStoreSuite('redis store', redis && (async (options) => {
  const keyPrefix = uniquePrefix()
  const store = await createRedisStore({ url: redis.url, keyPrefix, ...options })
  return { store, cleanup: async () => { await store.close(); await deletePrefix(redis.url, keyPrefix) } }
}))

const skip = redis ? false : 'no Redis server reachable'

test('redis store: a malformed model announcement is ignored, not delivered', { skip }, async (t) => {
  const keyPrefix = uniquePrefix()
  const errors: Error[] = []
  const store = await createRedisStore({ url: redis!.url, keyPrefix, onError: (e) => errors.push(e) })
  const raw = new Redis(redis!.url)
  t.after(async () => { raw.disconnect(); await store.close(); await deletePrefix(redis!.url, keyPrefix) })
  const delivered: unknown[] = []
  store.onActiveModel((m) => delivered.push(m))
  const good = { path: 'm2', version: 'v9', at: new Date().toISOString() }
  const goodSeen = new Promise<void>((resolve) => store.onActiveModel(() => resolve()))
  await raw.publish(`${keyPrefix}model`, '{"path": 42}')
  await raw.publish(`${keyPrefix}model`, JSON.stringify(good))
  await goodSeen
  assert.deepEqual(delivered, [good])
  assert.ok(errors.some((e) => /malformed model announcement/.test(e.message)))
})

test('redis store: a malformed active-model key reads as unavailable, not as a model', { skip }, async (t) => {
  const keyPrefix = uniquePrefix()
  const store = await createRedisStore({ url: redis!.url, keyPrefix })
  const raw = new Redis(redis!.url)
  t.after(async () => { raw.disconnect(); await store.close(); await deletePrefix(redis!.url, keyPrefix) })
  await raw.set(`${keyPrefix}model:active`, 'not json')
  await assert.rejects(store.getActiveModel(), StateUnavailableError)
})

test('redis store: calls fail fast while Redis is down and work again after it restarts', { skip: hasRedisServerBinary() ? false : 'no redis-server binary' }, async (t) => {
  const own = await startThrowawayRedis()
  const store = await createRedisStore({ url: own.url, keyPrefix: uniquePrefix(), timeoutMs: 50 })
  t.after(async () => { await store.close(); await own.stop() })
  await store.recordEvents([{ userId: 'u', itemId: 'a', type: 'view', timestamp: Date.now() }])
  await own.stop()
  const started = Date.now()
  await assert.rejects(store.recentItems('u', 5), StateUnavailableError)
  await assert.rejects(store.recordEvents([{ userId: 'u', itemId: 'b', type: 'view', timestamp: Date.now() }]), StateUnavailableError)
  assert.equal(await store.ping(), false)
  assert.ok(Date.now() - started < 1500, 'failures are fast, not queued')
  await own.start()
  // The client reconnects by itself (backoff capped at 1 s).
  const deadline = Date.now() + 5000
  while (!(await store.ping()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  assert.equal(await store.ping(), true)
  await store.recordEvents([{ userId: 'u', itemId: 'c', type: 'view', timestamp: Date.now() }])
  assert.deepEqual(await store.recentItems('u', 5), ['c'], 'the restarted server kept nothing; new events are accepted again')
})

test('redis store: starts degraded when Redis is unreachable, without throwing', { skip }, async (t) => {
  const { freePort } = await import('../helpers/redis.js')
  const port = await freePort()
  const store = await createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: uniquePrefix(), timeoutMs: 50 })
  t.after(() => store.close())
  assert.equal(await store.ping(), false)
  await assert.rejects(store.trending(5), StateUnavailableError)
})
