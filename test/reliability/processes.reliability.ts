/**
 * The service as deployed (WORKERS=2, node:cluster) under keep-alive load: a worker killed with
 * SIGKILL is replaced while the other serves and the merged /metrics counters never go back; a
 * SIGTERM drains (readiness 503 at once, requests served through DRAIN_DELAY_MS, listeners closed,
 * exit 0 within SHUTDOWN_DELAY_MS) and no request sent before the listeners closed fails.
 */
import assert from 'node:assert/strict'
import { get } from 'node:http'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'
import { startLoad } from '../helpers/load.js'
import { startService } from '../helpers/service.js'
import { waitUntil } from '../helpers/wait.js'

/** One GET on a fresh connection: status and body (text). */
function fresh (port: number, path: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

/** The sum over every series of a metric in the exposition text. */
function total (text: string, metric: string): number {
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  return sum
}

async function bundleRoot (t: Parameters<typeof startService>[0]): Promise<string> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'v1'), { items: 200, users: 50, version: 'v1' })
  return dir
}

const path = (i: number): string => `/v1/users/u${i % 50}/recommendations?k=5`

test('WORKERS=2 under load: a killed worker is replaced, the other serves meanwhile, merged counters never go back', { timeout: 180_000 }, async (t) => {
  const root = await bundleRoot(t)
  const svc = await startService(t, { WORKERS: '2', MODEL_DIR: join(root, 'v1'), MODELS_ROOT: root })
  const load = startLoad(svc.port, { connections: 8, path })
  t.after(() => load.stop())
  await waitUntil(() => load.outcomes.length >= 300, 'load under way')
  const before = total((await fresh(svc.port, '/metrics')).body, 'http_request_duration_seconds_count')
  const worker = /"worker":(\d+),"port"/.exec(svc.output())![1]
  process.kill(Number(worker), 'SIGKILL')
  const killedAt = load.outcomes.length
  await svc.waitForOutput(/"msg":"worker listening"/, 3)
  const replaced = load.outcomes.length
  await waitUntil(() => load.outcomes.length >= replaced + 300, 'load after the replacement')
  await load.stop()

  const after = (await fresh(svc.port, '/metrics')).body
  assert.ok(total(after, 'http_request_duration_seconds_count') >= before, 'merged request counts never go back')
  assert.equal(total(after, 'hashrec_worker_restarts_total'), 1)
  assert.equal(total(after, 'hashrec_workers'), 2)
  const failures = load.outcomes.filter((o) => o.status !== 200)
  // Only requests in flight on the killed worker's connections may fail, and only as a lost connection.
  for (const o of failures) assert.match(o.error ?? `status ${o.status}`, /ECONNRESET|socket hang up|EPIPE/, JSON.stringify(o))
  assert.ok(failures.length <= 8, `${failures.length} requests failed: at most one per connection`)
  assert.ok(load.outcomes.slice(killedAt).filter((o) => o.status === 200).length > 300, 'the survivor and the replacement served on')
})

test('SIGTERM under load on WORKERS=2: readiness 503 at once, served through the delay, nothing sent before the listeners closed fails, exit 0 in time', { timeout: 180_000 }, async (t) => {
  const root = await bundleRoot(t)
  const svc = await startService(t, { WORKERS: '2', MODEL_DIR: join(root, 'v1'), MODELS_ROOT: root, LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '6000', DRAIN_DELAY_MS: '1500' })
  const load = startLoad(svc.port, { connections: 8, path })
  await waitUntil(() => load.outcomes.length >= 300, 'load under way')
  assert.equal((await fresh(svc.port, '/readyz')).status, 200)

  const signalledAt = Date.now()
  svc.proc.kill('SIGTERM')
  // Both workers drain at once: readiness fails right away while requests are still served.
  await waitUntil(async () => (await fresh(svc.port, '/readyz')).status === 503, 'readiness to fail')
  const readyFailedMs = Date.now() - signalledAt
  const served = await fresh(svc.port, path(1))
  assert.equal(served.status, 200, 'still serving during the delay')
  const exited = await svc.exited()
  const exitMs = Date.now() - signalledAt
  await load.stop()

  assert.deepEqual(exited, { code: 0, signal: null }, svc.output())
  assert.ok(exitMs < 6000 + 2000, `exited ${exitMs} ms after SIGTERM, within SHUTDOWN_DELAY_MS`)
  assert.ok(readyFailedMs < 1500, `readiness failed ${readyFailedMs} ms after the signal, before the listeners closed`)
  const closes = [...svc.output().matchAll(/"at":(\d+)[^\n]*"msg":"listener closed/g)].map((m) => Number(m[1]))
  assert.equal(closes.length, 2, svc.output())
  const closedAt = Math.min(...closes)
  assert.ok(closedAt - signalledAt >= 1500 - 50, 'the listeners closed after the delay')
  const before = load.outcomes.filter((o) => o.sentAt < closedAt)
  assert.deepEqual(before.filter((o) => o.status !== 200), [], 'every request sent before the listeners closed was answered 200')
  assert.ok(before.filter((o) => o.sentAt >= signalledAt).length > 50, 'requests were served through the delay')
  const after = load.outcomes.filter((o) => o.sentAt >= closedAt)
  for (const o of after) assert.ok(o.status === 200 || o.error === 'ECONNREFUSED' || o.error === 'ECONNRESET', JSON.stringify(o))
  t.diagnostic(`${before.length} requests before the listeners closed (all 200), ${after.length} after: ${after.filter((o) => o.status === 200).length} answered, ${after.filter((o) => o.error === 'ECONNREFUSED').length} refused, ${after.filter((o) => o.error === 'ECONNRESET').length} reset; readiness failed after ${readyFailedMs} ms, exit after ${exitMs} ms`)
})
