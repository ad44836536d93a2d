import assert from 'node:assert/strict'
import { get, request } from 'node:http'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'
import { startService } from '../helpers/service.js'
import { waitUntil } from '../helpers/wait.js'

/** One request on a fresh connection (no keep-alive), so the cluster may hand it to any worker. */
function healthz (port: number): Promise<{ status: number, worker: string | undefined }> {
  return new Promise((resolve, reject) => {
    // A connection the primary handed to a worker that just died is never answered: time out.
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1000 }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: res.headers['x-hashrec-worker'] as string | undefined }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

test('WORKERS=2 serves from two worker processes on one port, replaces a crashed one, and exits 0 on SIGTERM', { timeout: 120_000 }, async (t) => {
  const { dir: root, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(root, 'v1'), { items: 200, users: 50, version: 'v1' })
  // Resolves once the primary has seen both workers listen (each loads and warms before it does).
  const svc = await startService(t, { WORKERS: '2', MODEL_DIR: join(root, 'v1'), MODELS_ROOT: root, SHUTDOWN_DELAY_MS: '2000', MAX_EVENT_LOOP_DELAY_MS: '50' })
  const { port } = svc

  // Fresh connections go round-robin: both workers answer.
  const workers = new Set<string>()
  await waitUntil(async () => {
    const r = await healthz(port)
    assert.equal(r.status, 200)
    if (r.worker !== undefined) workers.add(r.worker)
    return workers.size === 2
  }, 'both workers to answer', 0)
  assert.ok(![...workers].includes(String(svc.proc.pid)), 'the primary must not serve')
  // Each worker warmed every user's default answer before it listened (WARM_UP_USERS); /metrics
  // on either one answers the whole group's merged series.
  const metrics = (await fresh<string>(port, '/metrics')).body
  assert.match(metrics, /^hashrec_warm_up_answers\{stopped_by="done"\} 100$/m)
  assert.match(metrics, /^hashrec_result_cache_total\{result="warmed"\} 100$/m)
  assert.match(metrics, /^hashrec_workers 2$/m)

  // A crashed worker is replaced (after the first backoff, 0.5 s) and the new one serves.
  const [victim] = workers
  process.kill(Number(victim), 'SIGKILL')
  await svc.waitForOutput(/"msg":"worker listening"/, 3)
  assert.match(svc.output(), /worker exited unexpectedly: restarting/)
  let replacement: string | undefined
  await waitUntil(async () => {
    const r = await healthz(port).catch(() => null)
    if (r !== null && r.worker !== undefined && !workers.has(r.worker)) replacement = r.worker
    return replacement !== undefined
  }, 'the replacement worker to answer')
  assert.ok(replacement !== undefined)
  workers.delete(victim)
  workers.add(replacement)
  // The killed worker's counts stay in the merged counters.
  const after = (await fresh<string>(port, '/metrics')).body
  assert.match(after, /^hashrec_result_cache_total\{result="warmed"\} 150$/m)
  assert.match(after, /^hashrec_worker_restarts_total 1$/m)

  const { code, signal } = await svc.stop('SIGTERM')
  assert.equal(signal, null, svc.output())
  assert.equal(code, 0, svc.output())
  assert.match(svc.output(), /all workers stopped/)
  for (const pid of workers) assert.throws(() => process.kill(Number(pid), 0), /ESRCH/)
})

/** A request on a fresh connection: status, the worker that answered, and the JSON body. */
function fresh<T> (port: number, path: string, init: { method?: string, body?: unknown, token?: string } = {}): Promise<{ status: number, worker: string, body: T }> {
  return new Promise((resolve, reject) => {
    const payload = init.body === undefined ? undefined : JSON.stringify(init.body)
    const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' }
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', agent: false, timeout: 5000, headers }, (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { data += d })
      // JSON bodies parsed; text (/metrics) as it came.
      const json = String(res.headers['content-type']).includes('json')
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: String(res.headers['x-hashrec-worker']), body: (json ? JSON.parse(data) : data) as T }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(payload)
  })
}

/**
 * Asks on fresh connections until every one of `workers` has answered `check` true. Bounded by
 * the test's timeout only: what it waits for (a channel delivering an event, a reload) happens
 * as soon as the machine gets to it.
 */
async function onEveryWorker<T> (port: number, workers: number, path: string, check: (body: T) => boolean): Promise<Set<string>> {
  const good = new Set<string>()
  await waitUntil(async () => {
    try {
      const r = await fresh<T>(port, path)
      if (r.status === 200 && check(r.body)) good.add(r.worker)
    } catch { /* a worker still starting */ }
    return good.size >= workers
  }, `${workers} workers to answer ${path} as expected`)
  return good
}

test('WORKERS=2 without Redis share one state: an event on one worker excludes on the other, a reload reaches both, a replacement worker starts from it', { timeout: 120_000 }, async (t) => {
  const { dir: root, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(root, 'v1'), { items: 40, users: 10, seen: true, version: 'v1' })
  await writeTestBundle(join(root, 'v2'), { items: 40, users: 10, seen: true, version: 'v2', seed: 5 })
  const token = 'cluster-test-token-0123456789'
  const svc = await startService(t, { WORKERS: '2', MODEL_DIR: join(root, 'v1'), MODELS_ROOT: root, ADMIN_TOKEN: token, SHUTDOWN_DELAY_MS: '1000' })
  const { port } = svc

  type Rec = { items: { id: string }[], source: string, modelVersion: string }
  const path = '/v1/users/u1/recommendations?k=3&method=mips'
  const workers = await onEveryWorker<Rec>(port, 2, path, (b) => b.source !== 'history')
  const first = await fresh<Rec>(port, path)
  const clicked = first.body.items[0].id

  const posted = await fresh<{ accepted: number }>(port, '/v1/events', { method: 'POST', body: { events: [{ userId: 'u1', itemId: clicked, type: 'click' }] } })
  assert.equal(posted.status, 202)
  assert.equal(posted.body.accepted, 1)
  // The worker that took the event reads it at once; the other as soon as its channel delivers it.
  const afterEvent = await fresh<Rec>(port, path)
  if (afterEvent.worker === posted.worker) assert.equal(afterEvent.body.source, 'history')
  const excluding = (b: Rec): boolean => b.source === 'history' && !b.items.some((i) => i.id === clicked)
  await onEveryWorker<Rec>(port, 2, path, excluding)

  const reload = await fresh<{ announced: boolean }>(port, '/admin/model/reload', { method: 'POST', body: { dir: 'v2' }, token })
  assert.equal(reload.status, 200, JSON.stringify(reload.body))
  assert.equal(reload.body.announced, true)
  await onEveryWorker<{ version: string }>(port, 2, '/v1/model', (b) => b.version === 'v2')

  // A replacement worker starts from the primary's snapshot: the event and the active model.
  const [victim] = workers
  process.kill(Number(victim), 'SIGKILL')
  await svc.waitForOutput(/"msg":"worker listening"/, 3)
  let replacement: { worker: string, body: Rec } | undefined
  await waitUntil(async () => {
    try {
      const r = await fresh<Rec>(port, path)
      if (r.status === 200 && r.worker !== victim && !workers.has(r.worker)) replacement = r
    } catch { /* the survivor may be mid-accept */ }
    return replacement !== undefined
  }, 'the replacement worker to answer')
  assert.ok(replacement !== undefined)
  assert.ok(excluding(replacement.body), JSON.stringify(replacement.body))
  assert.equal(replacement.body.modelVersion, 'v2')
  const ready = await fresh<{ checks: { name: string, ok: boolean }[] }>(port, '/readyz')
  assert.equal(ready.status, 200)
  assert.deepEqual(ready.body.checks.find((c) => c.name === 'state'), { name: 'state', ok: true })
  assert.deepEqual(await svc.stop('SIGTERM'), { code: 0, signal: null })
})
