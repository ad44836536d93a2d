/**
 * Replicas as deployed: separate service processes (src/index.ts) sharing one Redis under a
 * unique key prefix. An event on one replica shapes the next answer of another; a reload on one
 * switches every replica; a replica that starts later serves the recorded active model.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, test, type TestContext } from 'node:test'
import { Redis } from 'ioredis'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'
import { deletePrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { startService } from '../helpers/service.js'
import { waitUntil } from '../helpers/wait.js'
import { TEST_TOKEN } from './helpers.js'

const redis = await testRedisUrl()
after(async () => { await redis?.release() })

interface Replica { readonly url: string }

/** A replica process, resolved once it serves (src/index.ts prints its address when it listens). */
async function startReplica (t: TestContext, env: Record<string, string>): Promise<Replica> {
  const svc = await startService(t, env)
  return { url: `http://127.0.0.1:${svc.port}` }
}

async function json<T> (url: string, init?: RequestInit): Promise<{ status: number, body: T }> {
  const res = await fetch(url, init)
  return { status: res.status, body: await res.json() as T }
}


test('two service processes on one Redis: an event on A excludes on B, a reload on A switches B, a late replica loads the active model (MODEL_DIR when it cannot)', { skip: redis ? false : 'no Redis server reachable', timeout: 120_000 }, async (t) => {
  const { dir: root, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(root, 'v1'), { items: 40, users: 10, seen: true, version: 'v1' })
  await writeTestBundle(join(root, 'v2'), { items: 40, users: 10, seen: true, version: 'v2', seed: 5 })
  const keyPrefix = uniquePrefix()
  t.after(() => deletePrefix(redis!.url, keyPrefix))
  const env = { MODEL_DIR: join(root, 'v1'), MODELS_ROOT: root, REDIS_URL: redis!.url, REDIS_KEY_PREFIX: keyPrefix, ADMIN_TOKEN: TEST_TOKEN }
  const [a, b] = await Promise.all([startReplica(t, env), startReplica(t, env)])

  type Rec = { items: { id: string }[], source: string, modelVersion: string }
  const first = await json<Rec>(`${b.url}/v1/users/u1/recommendations?k=3&method=mips`)
  assert.equal(first.status, 200)
  const clicked = first.body.items[0].id
  const posted = await json<{ accepted: number }>(`${a.url}/v1/events`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [{ userId: 'u1', itemId: clicked, type: 'click' }] }),
  })
  assert.equal(posted.status, 202)
  assert.equal(posted.body.accepted, 1)
  const next = await json<Rec>(`${b.url}/v1/users/u1/recommendations?k=3&method=mips`)
  assert.ok(!next.body.items.some((i) => i.id === clicked), 'B excludes the item clicked on A')
  assert.equal(next.body.source, 'history')

  const reload = await json<{ announced: boolean }>(`${a.url}/admin/model/reload`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` }, body: JSON.stringify({ dir: 'v2' }),
  })
  assert.equal(reload.status, 200)
  assert.equal(reload.body.announced, true)
  await waitUntil(async () => (await json<{ version: string }>(`${b.url}/v1/model`)).body.version === 'v2', 'B to serve v2')
  assert.equal((await json<{ version: string }>(`${a.url}/v1/model`)).body.version, 'v2')

  // MODEL_DIR still names v1: the recorded active model wins. D (started alongside, on a prefix
  // whose recorded model cannot be loaded) warns and serves MODEL_DIR.
  const brokenPrefix = uniquePrefix()
  t.after(() => deletePrefix(redis!.url, brokenPrefix))
  const raw = new Redis(redis!.url)
  t.after(() => raw.disconnect())
  await raw.set(`${brokenPrefix}model:active`, JSON.stringify({ path: 'gone', version: 'v9', at: new Date().toISOString() }))
  const [c, d] = await Promise.all([startReplica(t, env), startReplica(t, { ...env, REDIS_KEY_PREFIX: brokenPrefix })])
  const cModel = await json<{ version: string }>(`${c.url}/v1/model`)
  assert.equal(cModel.body.version, 'v2', JSON.stringify(cModel.body))
  const ready = await json<{ checks: { name: string, ok: boolean }[] }>(`${c.url}/readyz`)
  assert.equal(ready.status, 200)
  assert.deepEqual(ready.body.checks.find((x) => x.name === 'redis'), { name: 'redis', ok: true })
  assert.equal((await json<{ version: string }>(`${d.url}/v1/model`)).body.version, 'v1')
})
