/**
 * Events through Redis outages: a steady event load with client eventIds while Redis is paused
 * (SIGSTOP, 3 s: writes time out with 503, then land when it resumes) and killed (SIGKILL, then
 * restarted from its append-only file, fsynced before every acknowledgement). The client retries
 * every 503 with the same eventIds until it is acknowledged. Afterwards Redis's event stream must
 * hold every acknowledged eventId exactly once: nothing acknowledged is lost, and a retry of a batch
 * that was stored after all (its 503 notwithstanding) is not counted twice.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { createTestApp } from '../app/helpers.js'
import { tempDir } from '../helpers/bundle-fixture.js'
import { hasRedisServerBinary, startThrowawayRedis, uniquePrefix } from '../helpers/redis.js'
import { waitUntil } from '../helpers/wait.js'

const skip = hasRedisServerBinary() ? false : 'no redis-server binary'

test('Redis paused and killed under an event load: every acknowledged eventId stored exactly once, retried 503s not double-counted', { skip, timeout: 300_000 }, async (t) => {
  const data = await tempDir()
  t.after(data.cleanup)
  const redis = await startThrowawayRedis({ persistDir: data.dir })
  t.after(() => redis.stop())
  const prefix = uniquePrefix()
  const { app } = await createTestApp(t, {
    bundle: { items: 60, users: 20 },
    config: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, REDIS_WRITE_TIMEOUT_MS: 400, REDIS_TIMEOUT_MS: 100, MAX_EVENT_LOOP_DELAY_MS: 0 },
  })

  const acknowledged = new Set<string>()
  const stats = { batches: 0, refused: 0, retriedBatches: 0, duplicatesOnRetry: 0, other: [] as string[] }
  let next = 0
  let running = true
  const client = async (): Promise<void> => {
    while (running) {
      const ids = Array.from({ length: 5 }, () => `ev-${next++}`)
      const events = ids.map((eventId, j) => ({ userId: `user-${eventId}`, itemId: `i${j * 7 % 60}`, type: 'click', eventId }))
      stats.batches++
      for (let attempt = 0; ; attempt++) {
        const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { events } })
        if (res.statusCode === 202) {
          const body = res.json() as { accepted: number, duplicates: number }
          assert.equal(body.accepted, 5)
          if (attempt > 0) { stats.retriedBatches++; stats.duplicatesOnRetry += body.duplicates }
          for (const id of ids) acknowledged.add(id)
          break
        }
        if (res.statusCode !== 503) { stats.other.push(`${res.statusCode} ${res.body}`); return }
        assert.equal(res.json().type, 'urn:hashrec:problem:state-unavailable')
        assert.ok(res.headers['retry-after'] !== undefined)
        stats.refused++
        // Retry-After says 1 s; the test retries sooner to keep it short.
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }
  const clients = Array.from({ length: 4 }, client)
  const acked = (n: number) => waitUntil(() => acknowledged.size >= n, `${n} acknowledged events`)

  await acked(200)
  redis.pause()
  await new Promise((resolve) => setTimeout(resolve, 3000))
  redis.resume()
  await acked(acknowledged.size + 200)
  await redis.stop()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await redis.start()
  await acked(acknowledged.size + 200)
  running = false
  await Promise.all(clients)

  assert.deepEqual(stats.other, [], 'only 202 and 503')
  assert.ok(stats.refused > 0, 'the outages refused some batches')
  const raw = new Redis(redis.url)
  t.after(() => raw.disconnect())
  const entries = await raw.xrange(`${prefix}events`, '-', '+') as Array<[string, string[]]>
  const counts = new Map<string, number>()
  for (const [, fields] of entries) {
    const id = fields[fields.indexOf('id') + 1]
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  const missing = [...acknowledged].filter((id) => !counts.has(id))
  const twice = [...counts].filter(([, n]) => n > 1)
  t.diagnostic(`${stats.batches} batches, ${acknowledged.size} events acknowledged, ${stats.refused} refusals, ${stats.retriedBatches} batches acknowledged on a retry, ${stats.duplicatesOnRetry} of their events found stored already`)
  assert.deepEqual(missing, [], 'every acknowledged event is in Redis')
  assert.deepEqual(twice, [], 'no event is stored twice')
  assert.equal(counts.size, acknowledged.size, 'nothing stored that was not acknowledged in the end')
  // Each stored event counted once in its user's history too.
  assert.equal(await raw.exists(`${prefix}u:user-ev-0`), 1)
})
