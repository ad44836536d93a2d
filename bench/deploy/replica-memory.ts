/**
 * `npm run bench:replica-memory [-- --model models/default --cache-bytes 33554432 --requests 60000]`:
 * the memory of one replica as deployed (deploy/compose.yaml, deploy/kubernetes): the built
 * service (dist/index.js, as the image runs it) with WORKERS=1, driven until its result cache is
 * full and then through a model reload (two models held while the new one is checked and swapped).
 * Prints the RSS from /proc as it goes, its peak, and what the caches hold, for BENCHMARKS.md
 * ("Memory of one replica") and the containers' memory requests and limits.
 *
 * The traffic is built to fill the cache, not to look like production: every request is a
 * different (user, k, method, excludeSeen) or (item, k, method) combination, so nearly every
 * answer is computed and kept; events give new users histories.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { freePort } from '../../test/helpers/redis.js'

const ArgsSchema = z.object({
  model: z.string().default('models/default'),
  'cache-bytes': z.coerce.number().int().min(0).default(32 * 2 ** 20),
  requests: z.coerce.number().int().min(1).default(60_000),
  concurrency: z.coerce.number().int().min(1).max(256).default(16),
}).strict()

const TOKEN = 'bench-admin-token-0123456789'
const { values } = parseArgs({ options: { model: { type: 'string' }, 'cache-bytes': { type: 'string' }, requests: { type: 'string' }, concurrency: { type: 'string' } }, strict: true })
const parsed = ArgsSchema.safeParse(values)
if (!parsed.success) { process.stderr.write(`${parsed.error.message}\n`); process.exit(2) }
const a = parsed.data
if (!existsSync('dist/index.js')) { process.stderr.write('run npm run build first: this measures dist/index.js, as the image runs it\n'); process.exit(2) }

const model = await loadModel(a.model, { hnsw: false })
const users = Array.from({ length: model.users.size }, (_, r) => model.users.idAt(r))
const items = Array.from({ length: model.items.size }, (_, r) => model.items.idAt(r))
const port = await freePort()
const base = `http://127.0.0.1:${port}`
// MAX_EVENT_LOOP_DELAY_MS=0: no load shedding, so every request is answered and its answer kept.
const proc = spawn(process.execPath, ['--min-semi-space-size=16', 'dist/index.js'], {
  env: { ...process.env, WORKERS: '1', PORT: String(port), HOST: '127.0.0.1', MODEL_DIR: a.model, MODELS_ROOT: dirname(a.model), RESULT_CACHE_BYTES: String(a['cache-bytes']), ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn', MAX_EVENT_LOOP_DELAY_MS: '0' },
  stdio: ['ignore', 'inherit', 'inherit'],
})
const rssMiB = (): number => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1]) / 1024
let peak = 0
const sampler = setInterval(() => { try { peak = Math.max(peak, rssMiB()) } catch { /* exited */ } }, 100)
for (;;) {
  if (proc.exitCode !== null) { process.stderr.write('the service exited before it was ready\n'); process.exit(1) }
  try { if ((await fetch(`${base}/readyz`)).ok) break } catch { /* loading */ }
  await sleep(100)
}
process.stdout.write(`ready: RSS ${rssMiB().toFixed(0)} MiB (${model.items.size} items, ${model.users.size} users, result cache ${a['cache-bytes']} bytes)\n`)

const METHODS = ['hybrid', 'hamming', 'mips'] as const
function requestFor (n: number): { url: string, init?: RequestInit } {
  const kind = n % 10
  if (kind < 6) {
    const user = users[n % users.length]
    const k = 1 + Math.floor(n / users.length) % 100
    return { url: `/v1/users/${encodeURIComponent(user)}/recommendations?k=${k}&method=${METHODS[n % 3]}&excludeSeen=${n % 2 === 0}` }
  }
  if (kind < 9) return { url: `/v1/items/${encodeURIComponent(items[n % items.length])}/similar?k=${1 + (n % 50)}&method=${METHODS[n % 3]}` }
  const userId = `bench-user-${n}`
  return { url: '/v1/events', init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [{ userId, itemId: items[n % items.length], type: 'click' }, { userId, itemId: items[(n * 7) % items.length], type: 'view' }] }) } }
}

let next = 0
let done = 0
let failed = 0
const t0 = performance.now()
async function worker (): Promise<void> {
  while (next < a.requests) {
    const r = requestFor(next++)
    const res = await fetch(base + r.url, r.init)
    if (!res.ok) failed++
    await res.arrayBuffer()
    if (++done % 10_000 === 0) process.stdout.write(`  ${done} requests: RSS ${rssMiB().toFixed(0)} MiB\n`)
  }
}
await Promise.all(Array.from({ length: a.concurrency }, worker))
const metrics = await (await fetch(`${base}/metrics`)).text()
const series = (name: string): string => metrics.split('\n').filter((l) => l.startsWith(name)).join('; ')
process.stdout.write(`after ${a.requests} requests (${failed} not 2xx) in ${((performance.now() - t0) / 1000).toFixed(1)} s: RSS ${rssMiB().toFixed(0)} MiB; ${series('hashrec_cache_bytes')}\n`)

const beforeReload = peak
const reload = await fetch(`${base}/admin/model/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ dir: basename(a.model) }) })
process.stdout.write(`reload: ${reload.status}; RSS ${rssMiB().toFixed(0)} MiB after it\n`)
await sleep(2000)
clearInterval(sampler)
process.stdout.write(`peak RSS (100 ms samples): ${peak.toFixed(0)} MiB over the run, ${beforeReload.toFixed(0)} MiB before the reload\n`)
proc.kill('SIGTERM')
