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

/** Waits for a condition, polling; fails past `ms`. Returns the milliseconds it took. */
async function waitUntil (what: string, check: () => boolean, ms: number): Promise<number> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > ms) assert.fail(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return Date.now() - started
}

test('redis store: a rule patched on one replica reaches another through its channel; one whose message was lost is caught up by the version poll within a second', { skip }, async (t) => {
  const keyPrefix = uniquePrefix()
  const errors: Error[] = []
  const a = await createRedisStore({ url: redis!.url, keyPrefix })
  const b = await createRedisStore({ url: redis!.url, keyPrefix, onError: (e) => errors.push(e) })
  const raw = new Redis(redis!.url)
  t.after(async () => { raw.disconnect(); await a.close(); await b.close(); await deletePrefix(redis!.url, keyPrefix) })
  const rule = await a.patchItemRule('i1', { available: false })
  assert.deepEqual(a.rules.get('i1'), rule, 'the writer applies its own change before it answers')
  await waitUntil('B to apply the change', () => b.rules.get('i1')?.available === false, 1000)
  assert.equal(b.rules.version, a.rules.version)
  // A change whose message never comes (written around the script, as a lost message looks).
  await raw.multi().hset(`${keyPrefix}rules`, 'i2', JSON.stringify({ available: false, updatedAt: new Date().toISOString() })).incr(`${keyPrefix}rules:version`).exec()
  const took = await waitUntil('B to read the unannounced change', () => b.rules.get('i2')?.available === false, 1000)
  assert.ok(took < 1000, `${took} ms`)
  // Malformed input from Redis is reported and skipped, never applied.
  await raw.publish(`${keyPrefix}rules`, '{"v": "x"}')
  await raw.multi().hset(`${keyPrefix}rules`, 'bad', '{"boost": "high"}').incr(`${keyPrefix}rules:version`).exec()
  await waitUntil('the malformed rule to be reported', () => errors.some((e) => /malformed rule of item "bad"/.test(e.message)), 1000)
  assert.ok(errors.some((e) => /malformed rule change/.test(e.message)))
  assert.equal(b.rules.get('bad'), undefined)
  assert.equal(b.rules.get('i2')?.available, false)
})

test('redis store: concurrent patches of one item on two replicas both land (compare-and-set)', { skip }, async (t) => {
  const keyPrefix = uniquePrefix()
  const a = await createRedisStore({ url: redis!.url, keyPrefix })
  const b = await createRedisStore({ url: redis!.url, keyPrefix })
  t.after(async () => { await a.close(); await b.close(); await deletePrefix(redis!.url, keyPrefix) })
  await Promise.all([a.patchItemRule('x', { available: false }), b.patchItemRule('x', { boost: 4 }), a.patchItemRule('x', { tags: ['t'] })])
  for (const s of [a, b]) await waitUntil('both fields on both replicas', () => s.rules.get('x')?.available === false && s.rules.get('x')?.boost === 4 && s.rules.get('x')?.tags?.[0] === 't', 1000)
})

test('redis store: a rule patch fails fast with Redis down and changes nothing', { skip: hasRedisServerBinary() ? false : 'no redis-server binary' }, async (t) => {
  const own = await startThrowawayRedis()
  const store = await createRedisStore({ url: own.url, keyPrefix: uniquePrefix(), timeoutMs: 50, writeTimeoutMs: 200 })
  t.after(async () => { await store.close(); await own.stop() })
  await own.stop()
  await assert.rejects(store.patchItemRule('i', { available: false }), StateUnavailableError)
  assert.equal(store.rules.get('i'), undefined)
})
