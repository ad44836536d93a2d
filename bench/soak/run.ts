/**
 * Soak: does the service's memory level off under steady mixed traffic over a bounded id space?
 * Starts hashrec (src/index.ts) on a bundle, drives it with closed-loop keep-alive connections
 * (known users from a bounded pool, unknown users from a bounded pool, similar items, batches, and
 * click events carrying eventIds), samples every process of the service (RSS from /proc, the V8
 * heap from /metrics) at a fixed interval, prints the series, and fits the RSS slope over the last
 * `--tail-minutes` (least squares, MiB/min). The target: with a bounded id space, RSS over the last
 * 10 minutes of a 30-minute soak grows less than 1 MiB/min.
 *
 *   npm run soak -- [--minutes 30] [--tail-minutes 10] [--model models/default] [--workers 1]
 *     [--users 1000] [--new-users 1000] [--connections 16] [--sample-seconds 30]
 *     [--server-env EVENT_ID_CAPACITY=100000,...] [--heap-snapshots DIR --snapshot-minutes 5,25]
 *
 * `--heap-snapshots` starts the server with --heapsnapshot-signal=SIGWINCH in DIR and signals it at
 * the given minutes: compare two snapshots (Chrome DevTools, Comparison view) to see what grew.
 * The load generator shares the machine with the server: state `nproc` and the load average.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { createServer } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { zipfCdf, zipfRank } from '../lib/zipf.js'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'tail-minutes': { type: 'string', default: '10' },
    model: { type: 'string', default: 'models/default' },
    workers: { type: 'string', default: '1' },
    /** Known users drawn (Zipf) from the bundle's first N. */
    users: { type: 'string', default: '1000' },
    /** Unknown user ids drawn uniformly from new-0 .. new-(N-1). */
    'new-users': { type: 'string', default: '1000' },
    connections: { type: 'string', default: '16' },
    'sample-seconds': { type: 'string', default: '30' },
    'server-env': { type: 'string', default: 'EVENT_ID_CAPACITY=100000' },
    'heap-snapshots': { type: 'string', default: '' },
    'snapshot-minutes': { type: 'string', default: '' },
  },
})

const MINUTES = Number(args.minutes)
const TAIL = Number(args['tail-minutes'])
const SAMPLE_MS = Number(args['sample-seconds']) * 1000
const SERVER_ENV = Object.fromEntries(args['server-env'].split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
if (!(MINUTES > 0) || !(TAIL > 0) || TAIL > MINUTES || !(SAMPLE_MS > 0)) {
  process.stderr.write('--minutes, --tail-minutes (<= minutes) and --sample-seconds must be positive numbers\n')
  process.exit(2)
}

function ids (file: string, limit: number): string[] {
  const out: string[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.length === 0) continue
    out.push((JSON.parse(line) as { id: string }).id)
    if (out.length >= limit) break
  }
  return out
}

const model = resolve(args.model)
const users = ids(join(model, 'users.jsonl'), Number(args.users))
const items = ids(join(model, 'items.jsonl'), Number.MAX_SAFE_INTEGER)
const newUsers = Number(args['new-users'])
const userCdf = zipfCdf(users.length)
const itemCdf = zipfCdf(items.length)

/** mulberry32: the same traffic every run. */
let seed = 20_240_601
function rand (): number {
  let t = (seed = (seed + 0x6d2b79f5) | 0)
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const anyUser = (): string => (rand() < 0.8 ? users[zipfRank(userCdf, rand())] : `new-${Math.floor(rand() * newUsers)}`)
const anyItem = (): string => items[zipfRank(itemCdf, rand())]
let eventSeq = 0

/** One request of the mix: 55% user recommendations, 15% similar items, 5% batches of 5, 25% one click event. */
function nextRequest (): { method: string, path: string, body?: string } {
  const r = rand()
  const methods = ['hybrid', 'hamming', 'mips'] as const
  const method = methods[Math.floor(rand() * 3)]
  if (r < 0.55) return { method: 'GET', path: `/v1/users/${encodeURIComponent(anyUser())}/recommendations?k=10&method=${method}` }
  if (r < 0.70) return { method: 'GET', path: `/v1/items/${encodeURIComponent(anyItem())}/similar?k=10&method=${method}` }
  if (r < 0.75) return { method: 'POST', path: '/v1/recommendations/batch', body: JSON.stringify({ requests: Array.from({ length: 5 }, () => ({ userId: anyUser(), k: 10 })) }) }
  return { method: 'POST', path: '/v1/events', body: JSON.stringify({ events: [{ userId: anyUser(), itemId: anyItem(), type: 'click', eventId: `soak-${process.pid}-${eventSeq++}` }] }) }
}

function freePort (): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as { port: number }; srv.close(() => resolvePort(port)) })
  })
}

/** The pids of a process and its descendants (a cluster's workers). */
function tree (pid: number): number[] {
  const out = [pid]
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out.push(...tree(Number(child)))
  } catch { /* gone */ }
  return out
}

function rssMiB (pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    return kb / 1024
  } catch { return 0 }
}

async function main (): Promise<void> {
  const port = await freePort()
  const snapshots = args['heap-snapshots'] !== '' ? resolve(args['heap-snapshots']) : undefined
  if (snapshots !== undefined) await mkdir(snapshots, { recursive: true })
  const node = ['--min-semi-space-size=16', ...(snapshots !== undefined ? ['--heapsnapshot-signal=SIGWINCH'] : []), '--import', import.meta.resolve('tsx'), resolve('src/index.ts')]
  const server = spawn(process.execPath, node, {
    cwd: snapshots ?? process.cwd(),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MODEL_DIR: model, MODELS_ROOT: resolve(model, '..'), WORKERS: args.workers, LOG_LEVEL: 'warn', LOG_PRETTY: 'false', MAX_EVENT_LOOP_DELAY_MS: '0', ...SERVER_ENV },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolveReady, reject) => {
    let out = ''
    const workers = Number(args.workers)
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if ((out.match(/hashrec serving/g) ?? []).length >= workers) resolveReady()
    })
    server.once('exit', (code) => reject(new Error(`the server exited (${code}) before serving:\n${out}`)))
  })

  const agent = new Agent({ keepAlive: true, maxSockets: Number(args.connections) })
  const counts = { ok: 0, failed: 0 }
  let running = true
  const one = (): Promise<void> => new Promise((done) => {
    const spec = nextRequest()
    const req = request({ host: '127.0.0.1', port, path: spec.path, method: spec.method, agent, headers: spec.body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => { if ((res.statusCode ?? 0) < 400) counts.ok++; else counts.failed++; done() })
    })
    req.on('error', () => { counts.failed++; done() })
    req.end(spec.body)
  })
  const loops = Array.from({ length: Number(args.connections) }, async () => { while (running) await one() })

  /** The V8 heap in use and committed, and memory outside it (Buffers, typed arrays), summed over the service's processes. */
  const heapMiB = async (): Promise<{ used: number, total: number, external: number }> => new Promise((resolveHeap) => {
    request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20
      res.on('end', () => resolveHeap({ used: read('nodejs_heap_size_used_bytes'), total: read('nodejs_heap_size_total_bytes'), external: read('nodejs_external_memory_bytes') }))
    }).on('error', () => resolveHeap({ used: 0, total: 0, external: 0 })).end()
  })

  process.stdout.write(`soak: ${MINUTES} min, ${args.workers} worker(s), ${users.length} known + ${newUsers} unknown users, ${items.length} items, ${args.connections} connections, server env ${JSON.stringify(SERVER_ENV)}\n`)
  process.stdout.write(`machine: nproc ${cpus().length}, ${cpus()[0]?.model ?? '?'}, node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`)
  process.stdout.write('  min   rss MiB  heap MiB  (committed)  external MiB  requests/s  failed\n')
  const samples: Array<{ min: number, rss: number, heap: number }> = []
  const snapshotAt = args['snapshot-minutes'].split(',').filter(Boolean).map(Number)
  const started = Date.now()
  let lastOk = 0
  let lastAt = started
  for (;;) {
    const elapsed = Date.now() - started
    const min = elapsed / 60_000
    const perProcess = tree(server.pid!).filter((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('src/index.ts') } catch { return false } }).map(rssMiB)
    const rss = perProcess.reduce((s, r) => s + r, 0)
    const v8 = await heapMiB()
    const heap = v8.used
    const now = Date.now()
    const rate = (counts.ok - lastOk) / Math.max(0.001, (now - lastAt) / 1000)
    lastOk = counts.ok
    lastAt = now
    samples.push({ min, rss, heap })
    process.stdout.write(`${min.toFixed(1).padStart(5)}  ${rss.toFixed(1).padStart(8)}  ${heap.toFixed(1).padStart(8)}  ${v8.total.toFixed(1).padStart(11)}  ${v8.external.toFixed(1).padStart(12)}  ${rate.toFixed(0).padStart(10)}  ${String(counts.failed).padStart(6)}${perProcess.length > 1 ? `  (${perProcess.map((r) => r.toFixed(0)).join(' + ')})` : ''}\n`)
    while (snapshotAt.length > 0 && min >= snapshotAt[0]) {
      snapshotAt.shift()
      // The node processes only (tsx's esbuild child would die of the signal).
      for (const pid of tree(server.pid!)) if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('src/index.ts')) process.kill(pid, 'SIGWINCH')
      process.stdout.write(`       heap snapshot requested (${snapshots})\n`)
    }
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`the server exited (${server.exitCode ?? server.signalCode}) during the soak`)
    if (elapsed >= MINUTES * 60_000) break
    await new Promise((r) => setTimeout(r, Math.min(SAMPLE_MS, MINUTES * 60_000 - elapsed)))
  }
  running = false
  await Promise.all(loops)
  agent.destroy()
  server.kill('SIGTERM')
  await once(server, 'exit')

  const tail = samples.filter((s) => s.min >= MINUTES - TAIL - 1e-9)
  const slope = (pick: (s: { min: number, rss: number, heap: number }) => number): number => {
    const n = tail.length
    const mx = tail.reduce((a, s) => a + s.min, 0) / n
    const my = tail.reduce((a, s) => a + pick(s), 0) / n
    let num = 0
    let den = 0
    for (const s of tail) { num += (s.min - mx) * (pick(s) - my); den += (s.min - mx) ** 2 }
    return den === 0 ? 0 : num / den
  }
  const rssSlope = slope((s) => s.rss)
  process.stdout.write(`\nlast ${TAIL} min (${tail.length} samples): RSS ${rssSlope.toFixed(2)} MiB/min, heap ${slope((s) => s.heap).toFixed(2)} MiB/min; ${counts.ok} requests answered, ${counts.failed} failed; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`)
  process.stdout.write(`target (RSS < 1 MiB/min over the last ${TAIL} min): ${rssSlope < 1 ? 'met' : 'MISSED'}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
