/**
 * Failure behaviour against a real redis-server of our own: stopped mid-run, paused (slow), then
 * restarted. Recommendations never fail (degraded: true, counted), events are refused with 503 and
 * Retry-After while Redis is unavailable and accepted again once the client has reconnected; the
 * replica stays ready, reported degraded.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { RecommendationResponseSchema } from '../../src/routes/schemas.js'
import { hasRedisServerBinary, startThrowawayRedis, uniquePrefix } from '../helpers/redis.js'
import { waitUntil } from '../helpers/wait.js'
import { createTestApp, type Problem } from './helpers.js'

const skip = hasRedisServerBinary() ? false : 'no redis-server binary'

test('Redis stopped mid-run then restarted: no 5xx on recommendations, events 503 with Retry-After while down, 202 after', { skip, timeout: 30_000 }, async (t) => {
  const own = await startThrowawayRedis()
  t.after(() => own.stop())
  const { app } = await createTestApp(t, {
    bundle: { items: 40, users: 10, seen: true },
    config: { REDIS_URL: own.url, REDIS_KEY_PREFIX: uniquePrefix(), MAX_EVENT_LOOP_DELAY_MS: 0 },
  })
  const event = (itemId: string): { method: 'POST', url: string, payload: Record<string, unknown> } => ({ method: 'POST', url: '/v1/events', payload: { events: [{ userId: 'u1', itemId, type: 'click' }] } })
  assert.equal((await app.inject(event('i30'))).statusCode, 202)
  const up = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=5&method=mips' })).json())
  assert.equal(up.source, 'history')
  assert.equal(up.degraded, undefined)
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)

  await own.stop()
  for (const url of ['/v1/users/u1/recommendations?k=5&method=mips', '/v1/users/stranger/recommendations?k=5']) {
    const started = performance.now()
    const res = await app.inject({ method: 'GET', url })
    assert.equal(res.statusCode, 200, res.body)
    const body = RecommendationResponseSchema.parse(res.json())
    assert.equal(body.degraded, true)
    assert.ok(performance.now() - started < 500, 'served within the budget, not after a reconnect')
    if (url.includes('u1')) {
      assert.equal(body.source, 'dedicated', 'no history while Redis is down: the learned row')
      assert.ok(!body.items.some((i) => ['i3', 'i4', 'i5'].includes(i.id)), 'training items are still excluded')
    } else {
      assert.equal(body.fallback, 'popular')
    }
  }
  const refused = await app.inject(event('i31'))
  assert.equal(refused.statusCode, 503)
  assert.equal(refused.headers['retry-after'], '1')
  assert.equal((refused.json() as Problem).type, 'urn:hashrec:problem:state-unavailable')
  // Still ready (recommendations are served), reported degraded.
  const degraded = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(degraded.statusCode, 200)
  assert.equal((degraded.json() as { degraded: boolean }).degraded, true)
  assert.equal((degraded.json() as { checks: { name: string, ok: boolean }[] }).checks.find((c) => c.name === 'redis')?.ok, false)
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.match(metrics, /hashrec_state_degraded_total\{operation="history"\} [1-9]/)
  assert.match(metrics, /hashrec_events_total\{result="refused"\} 1/)

  await own.start()
  // The client reconnects by itself.
  await waitUntil(async () => (await app.inject({ method: 'GET', url: '/readyz' })).json().degraded === false, 'Redis to answer again', 50)
  assert.equal((await app.inject(event('i32'))).statusCode, 202)
  const back = RecommendationResponseSchema.parse((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=5&method=mips' })).json())
  assert.equal(back.degraded, undefined)
  assert.equal(back.source, 'history', 'the restarted server kept nothing but the new event')
})

test('a slow Redis (clients paused) costs one time budget: the recommendation is degraded, not late', { skip, timeout: 30_000 }, async (t) => {
  const own = await startThrowawayRedis()
  t.after(() => own.stop())
  const { app } = await createTestApp(t, { bundle: { items: 40, users: 10 }, config: { REDIS_URL: own.url, REDIS_KEY_PREFIX: uniquePrefix(), REDIS_TIMEOUT_MS: 50, MAX_EVENT_LOOP_DELAY_MS: 0 } })
  await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=5' })
  const admin = new Redis(own.url)
  t.after(() => admin.disconnect())
  await admin.call('CLIENT', 'PAUSE', '400', 'ALL')
  const started = performance.now()
  const res = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=5' })
  const ms = performance.now() - started
  assert.equal(res.statusCode, 200)
  assert.equal((res.json() as { degraded?: boolean }).degraded, true)
  assert.ok(ms < 300, `answered in ${ms.toFixed(0)} ms with a 50 ms budget while Redis is paused for 400 ms`)
})
