/**
 * Throughput under load. In one run:
 *   1. starts hashrec (`src/index.ts`, as `npm start` runs it minus the build) on the synthetic
 *      1M-item bundle and on models/default, each with WORKERS=1 and WORKERS=2, each its own process
 *      tree on its own port; and bare fastify (bench/http/bare-server.ts) answering every route
 *      with the bytes hashrec sent for it, WORKERS=1 and 2;
 *   2. drives each with autocannon from this process (which serves nothing), in interleaved rounds
 *      (each starting one server later than the last) so the shared machine's noise hits all
 *      alike: the `user` mix (GET user recommendations, hybrid, k=10, user ids Zipf(1) over the
 *      bundle's users plus 10% unknown ids, drawn as the run goes and never replayed: see
 *      RequestStream) and the `mixed` mix (7 user : 2 similar-items : 1 batch of 10, all hybrid k=10); and, when asked, the `events`
 *      mix (POST /v1/events, one click per request, the `user` mix's users: the write path, which
 *      with WORKERS > 1 and no Redis goes through the cluster primary; it changes the users'
 *      history, so run it on its own or last);
 *   3. prints req/s, p50, p99, errors, timeouts, non-2xx, the ratio to bare fastify with the same
 *      WORKERS and the server's CPU time per response (all its processes, from /proc: a steadier
 *      A/B measure than req/s when the load generator shares the cores), and each worker's RSS;
 *   4. spike: the sustainable rate is the `user` mix's median req/s on the spike target; then
 *      4x that rate (autocannon overallRate, 4x the connections), reporting the 503 share, timeouts,
 *      p99, and the time until sequential requests are served again after the spike stops.
 *
 *   npm run bench:http -- [--bundle .bench-tmp/load-1000000-100000/bundle] [--model models/default]
 *     [--workers 1,2] [--connections 64] [--duration 5] [--rounds 3] [--spike-seconds 10]
 *     [--spike-target 1m-w2] [--mixes user,mixed,events] [--server-env MAX_EVENT_LOOP_DELAY_MS=0,...]
 *     [--compare-env RESULT_CACHE_BYTES=0]   (every hashrec server also started with these, named -alt)
 *     [--compare-dir ../base]   (every hashrec server also started from another checkout, named -alt:
 *       two commits side by side, e.g. `git worktree add ../base HEAD~1` with node_modules linked)
 *     [--users 100000]   (known users in the stream; a few thousand isolate the hit path once warm)
 *     [--warmup-seconds 2]   (the user mix before the rounds: longer measures a service that has been running)
 *     [--profile .bench-tmp/profiles]   (CPU profile per server process, bare fastify's too; prints each worker's top functions)
 *
 * The load generator shares the machine's cores with the servers (2 here): state `nproc` and the
 * load average beside the numbers, and compare ratios from one run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { get, request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import autocannon, { type RequestSpec, type Result } from 'autocannon'
import { zipfCdf, zipfRank } from '../lib/zipf.js'
import { selfTimes } from './profile-summary.js'

const { values: args } = parseArgs({
  options: {
    bundle: { type: 'string', default: '.bench-tmp/load-1000000-100000/bundle' },
    model: { type: 'string', default: 'models/default' },
    workers: { type: 'string', default: '1,2' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    mixes: { type: 'string', default: 'user,mixed' },
    'spike-seconds': { type: 'string', default: '10' },
    'spike-target': { type: 'string', default: '1m-w2' },
    k: { type: 'string', default: '10' },
    /** Known users the Zipf stream draws from (the bundle's first N): a few thousand make every answer a cache hit once warm, which isolates the hit path. */
    users: { type: 'string', default: '100000' },
    /** Extra environment for the hashrec servers, e.g. MAX_EVENT_LOOP_DELAY_MS=0 to measure without shedding. */
    'server-env': { type: 'string', default: '' },
    /** Also start every hashrec server with these variables on top (named <server>-alt): an A/B in one run, e.g. RESULT_CACHE_BYTES=0. */
    'compare-env': { type: 'string', default: '' },
    /** Seconds of the `user` mix each server gets before the measured rounds. */
    'warmup-seconds': { type: 'string', default: '2' },
    /** Also start every hashrec server from this other checkout (its src/index.ts, named <server>-alt): an A/B of two commits in one run. */
    'compare-dir': { type: 'string', default: '' },
    /** Write a CPU profile of every server process (bare fastify's too) under this directory and print each worker's top functions by self time. */
    profile: { type: 'string', default: '' },
  },
})
const envList = (list: string): Record<string, string> => Object.fromEntries(list.split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
const SERVER_ENV = envList(args['server-env'])
const COMPARE_ENV = envList(args['compare-env'])
const COMPARE_DIR = args['compare-dir'] !== '' ? resolve(args['compare-dir']) : undefined

const K = Number(args.k)
const CONNECTIONS = Number(args.connections)
const UNKNOWN_SHARE = 0.1

interface Server { name: string, kind: 'hashrec' | 'bare', workers: number, port: number, proc: ChildProcess, pids: number[], ids?: Ids, stream?: RequestStream, output: string[] }

/** User plus system CPU seconds of a server's processes (primary and workers), from /proc. */
function cpuSeconds (s: Server): number {
  let ticks = 0
  for (const pid of new Set([s.proc.pid!, ...s.pids])) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch { /* exited */ }
  }
  return ticks / CLOCK_TICKS
}
/** USER_HZ: 100 on every Linux this runs on (sysconf is not reachable from node). */
const CLOCK_TICKS = 100
interface Ids { users: string[], items: string[] }

async function freePort (): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  s.close()
  await once(s, 'close')
  return port
}

async function firstIds (file: string, n: number): Promise<string[]> {
  const out: string[] = []
  const rl = createInterface({ input: createReadStream(file) })
  for await (const line of rl) {
    if (line.trim() === '') continue
    out.push((JSON.parse(line) as { id: string }).id)
    if (out.length >= n) break
  }
  rl.close()
  return out
}

/** One request on a fresh connection (the cluster may hand it to any worker). */
function fresh (port: number, path: string, method = 'GET', body?: string): Promise<{ status: number, worker?: string, body: string, ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { data += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: res.headers['x-hashrec-worker'] as string | undefined, body: data, ms: performance.now() - t0 }))
    })
    req.on('error', reject)
    req.setTimeout(5000, () => req.destroy(new Error('timeout')))
    req.end(body)
  })
}
void get

async function start (name: string, kind: Server['kind'], workers: number, env: Record<string, string>, cwd = process.cwd()): Promise<Server> {
  const port = await freePort()
  const script = kind === 'hashrec' ? 'src/index.ts' : 'bench/http/bare-server.ts'
  const profiling = args.profile !== '' ? ['--cpu-prof', `--cpu-prof-dir=${join(args.profile, name)}`] : []
  // The service's own log defaults (LOG_LEVEL info, no per-request lines): what `npm start` runs.
  const proc = spawn(process.execPath, [...profiling, '--import', 'tsx', script], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: String(workers), LOG_PRETTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
  })
  const output: string[] = []
  proc.stdout!.on('data', (d: Buffer) => { output.push(d.toString()) })
  proc.stderr!.on('data', (d: Buffer) => { output.push(d.toString()) })
  const s: Server = { name, kind, workers, port, proc, pids: [], output }
  return s
}

/** Ready when /readyz answers 200 from as many distinct workers as configured. */
async function ready (s: Server, timeoutMs = 600_000): Promise<void> {
  const seen = new Set<string>()
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (s.proc.exitCode !== null) throw new Error(`${s.name} exited ${s.proc.exitCode}:\n${s.output.join('')}`)
    try {
      const r = await fresh(s.port, '/readyz')
      if (r.status === 200) {
        seen.add(r.worker ?? String(s.proc.pid))
        if (seen.size >= s.workers) { s.pids = [...seen].map(Number); return }
        continue
      }
    } catch { /* not listening yet */ }
    await sleep(200)
  }
  throw new Error(`${s.name} not ready after ${timeoutMs} ms`)
}

/** Counters summed over every worker of a server, from /metrics. */
interface WorkerCounters {
  /** Result cache answers: cached, computed. */
  cached: number
  computed: number
  /** GC pauses by kind (prom-client's nodejs_gc_duration_seconds): count, seconds, and pauses over 10 ms. */
  gc: Map<string, { count: number, seconds: number, over10ms: number }>
  /** Heap now, summed over workers (MiB): the young generation's size (it sets how often minor GCs run) and the old space used. */
  newSpaceMiB: number
  oldUsedMiB: number
  /** Seconds spent in the recommendation domain (hashrec_recommendation_duration_seconds, every method, hits included). */
  domainSeconds: number
  /** Answers warmed before the model served (WARM_UP_USERS), and the longest worker's warm-up in seconds. */
  warmed: number
  warmSeconds: number
}

/**
 * The result cache's cached and computed answers and the GC pauses over every worker of a server:
 * each scrape answers from one worker, so scrape on fresh connections until each has answered.
 */
async function workerCounters (s: Server): Promise<WorkerCounters> {
  const byWorker = new Map<string, string>()
  for (let tries = 0; byWorker.size < s.workers && tries < 100; tries++) {
    const r = await fresh(s.port, '/metrics')
    byWorker.set(r.worker ?? String(s.proc.pid), r.body)
  }
  const out: WorkerCounters = { cached: 0, computed: 0, gc: new Map(), newSpaceMiB: 0, oldUsedMiB: 0, domainSeconds: 0, warmed: 0, warmSeconds: 0 }
  const value = (body: string, re: string): number => Number(new RegExp(`${re} ([0-9.e+-]+)`).exec(body)?.[1] ?? 0)
  for (const body of byWorker.values()) {
    out.cached += value(body, 'hashrec_result_cache_total\\{result="cached"\\}')
    out.computed += value(body, 'hashrec_result_cache_total\\{result="computed"\\}')
    out.warmed += value(body, 'hashrec_result_cache_total\\{result="warmed"\\}')
    out.warmSeconds = Math.max(out.warmSeconds, value(body, 'hashrec_warm_up_duration_seconds'))
    out.newSpaceMiB += value(body, 'nodejs_heap_space_size_total_bytes\\{space="new"\\}') / 2 ** 20
    out.oldUsedMiB += value(body, 'nodejs_heap_space_size_used_bytes\\{space="old"\\}') / 2 ** 20
    for (const m of body.matchAll(/^hashrec_recommendation_duration_seconds_sum\{[^}]*\} ([0-9.e+-]+)$/gm)) out.domainSeconds += Number(m[1])
    for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
      const g = out.gc.get(kind) ?? { count: 0, seconds: 0, over10ms: 0 }
      const count = value(body, `nodejs_gc_duration_seconds_count\\{kind="${kind}"\\}`)
      g.count += count
      g.seconds += value(body, `nodejs_gc_duration_seconds_sum\\{kind="${kind}"\\}`)
      g.over10ms += count - value(body, `nodejs_gc_duration_seconds_bucket\\{le="0.01",kind="${kind}"\\}`)
      out.gc.set(kind, g)
    }
  }
  return out
}

function rssMiB (pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch { return NaN }
}

/**
 * The requests sent to one server, drawn as they go and never replayed: user ids Zipf(1) over the
 * bundle's users in file order plus a share of ids no model has seen (each one new), similar-items
 * calls Zipf(1) over the first items, batches of ten such users. Every server gets the same seeded
 * sequence, and it carries on across that server's cells (rounds, mixes) as traffic to a running
 * service would, so an answer the service keeps (RESULT_CACHE_BYTES) is reused only when a user
 * comes back as Zipf traffic does, never because the load generator cycled a short list.
 */
class RequestStream {
  private state = 12345
  private unknown = 0
  private readonly userCdf: Float64Array
  private readonly itemCdf: Float64Array
  constructor (private readonly ids: Ids) {
    this.userCdf = zipfCdf(ids.users.length)
    this.itemCdf = zipfCdf(ids.items.length)
  }

  /** mulberry32 */
  private rand (): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  private zipf (cdf: Float64Array): number { return zipfRank(cdf, this.rand()) }

  userId (): string {
    return this.rand() < UNKNOWN_SHARE ? `unknown-${++this.unknown}-${Math.floor(this.rand() * 1e9)}` : this.ids.users[this.zipf(this.userCdf)]
  }

  userPath (): string { return `/v1/users/${encodeURIComponent(this.userId())}/recommendations?k=${K}&method=hybrid` }
  similarPath (): string { return `/v1/items/${encodeURIComponent(this.ids.items[this.zipf(this.itemCdf)])}/similar?k=${K}&method=hybrid` }
  batchBody (): string { return JSON.stringify({ requests: Array.from({ length: 10 }, () => ({ userId: this.userId(), k: K, method: 'hybrid' })) }) }
  /** One click by a stream user on an item drawn as the similar-items calls are. */
  eventBody (): string { return JSON.stringify({ events: [{ userId: this.userId(), itemId: this.ids.items[this.zipf(this.itemCdf)], type: 'click' }] }) }
}

function mixRequests (mix: string, stream: RequestStream): RequestSpec[] {
  if (mix === 'user') return [{ method: 'GET', setupRequest: (req) => ({ ...req, method: 'GET', path: stream.userPath() }) }]
  const json = { 'content-type': 'application/json' }
  if (mix === 'events') return [{ setupRequest: (req) => ({ ...req, method: 'POST', path: '/v1/events', body: stream.eventBody(), headers: json }) }]
  let n = 0
  const noHeaders: Record<string, string> = {}
  return [{
    setupRequest: (req) => {
      const slot = n++ % 10
      if (slot < 7) return { ...req, method: 'GET', path: stream.userPath(), body: undefined, headers: noHeaders }
      if (slot < 9) return { ...req, method: 'GET', path: stream.similarPath(), body: undefined, headers: noHeaders }
      return { ...req, method: 'POST', path: '/v1/recommendations/batch', body: stream.batchBody(), headers: json }
    },
  }]
}

interface Run { cpuUs: number, rps: number, goodput: number, p50: number, p99: number, errors: number, timeouts: number, non2xx: number, s503: number, total: number }

function summarize (r: Result): Omit<Run, 'cpuUs'> {
  return {
    rps: r.requests.average,
    // 2xx per second: a shed 503 is cheap and would otherwise count as throughput.
    goodput: (r.requests.total - r.non2xx) / Math.max(1e-9, r.duration),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    s503: r.statusCodeStats?.['503']?.count ?? 0,
    total: r.requests.total,
  }
}

async function drive (s: Server, mix: string, duration: number, connections = CONNECTIONS, overallRate?: number): Promise<Run> {
  const cpu0 = cpuSeconds(s)
  const r = await autocannon({
    url: `http://127.0.0.1:${s.port}`,
    connections,
    duration,
    timeout: 5,
    requests: mixRequests(mix, s.stream!),
    ...(overallRate !== undefined ? { overallRate } : {}),
  })
  // The server's CPU per response: steadier than its throughput on a machine the load generator shares.
  return { ...summarize(r), cpuUs: 1e6 * (cpuSeconds(s) - cpu0) / Math.max(1, r.requests.total) }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ')

async function main (): Promise<void> {
  const workerCounts = args.workers.split(',').map(Number)
  const mixes = args.mixes.split(',')
  const models: { key: string, dir: string }[] = []
  if (existsSync(join(args.bundle, 'manifest.json'))) models.push({ key: '1m', dir: args.bundle })
  else console.log(`no bundle at ${args.bundle} (npm run bench:load writes it): skipping the 1M-item runs`)
  if (existsSync(join(args.model, 'manifest.json'))) models.push({ key: 'default', dir: args.model })
  if (models.length === 0) throw new Error('no model to serve')

  const servers: Server[] = []
  const cleanup = (): void => { for (const s of servers) if (s.proc.exitCode === null) s.proc.kill('SIGTERM') }
  process.on('exit', cleanup)
  process.on('SIGINT', () => { cleanup(); process.exit(130) })

  try {
    console.log(`load average before start: ${load()}`)
    // One at a time: two 1M-item loads at once would each take twice as long on 2 cores.
    for (const m of models) {
      const ids: Ids = { users: await firstIds(join(m.dir, 'users.jsonl'), Number(args.users)), items: await firstIds(join(m.dir, 'items.jsonl'), 100_000) }
      for (const w of workerCounts) {
        const alt = Object.keys(COMPARE_ENV).length > 0 || args['compare-dir'] !== ''
        for (const [suffix, extra, cwd] of alt ? [['', {}, undefined], ['-alt', COMPARE_ENV, COMPARE_DIR]] as const : [['', {}, undefined]] as const) {
          const t0 = performance.now()
          const s = await start(`${m.key}-w${w}${suffix}`, 'hashrec', w, { MODEL_DIR: resolve(m.dir), MODELS_ROOT: resolve(m.dir, '..'), ...SERVER_ENV, ...extra }, cwd)
          servers.push(s)
          s.ids = ids
          s.stream = new RequestStream(ids)
          await ready(s)
          console.log(`${s.name}: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (all ${w} worker(s) loaded), pids ${s.pids.join(',')}`)
        }
      }
      if (Object.keys(COMPARE_ENV).length > 0) console.log(`servers named -alt run with ${args['compare-env']}`)
      if (COMPARE_DIR !== undefined) console.log(`servers named -alt run from ${COMPARE_DIR}`)
    }

    // The bare server answers with the bytes hashrec sent for one request of each kind.
    const ref = servers.find((s) => s.name.startsWith(models[0].key))!
    const ids = ref.ids!
    const bodies = {
      user: (await fresh(ref.port, `/v1/users/${encodeURIComponent(ids.users[0])}/recommendations?k=${K}&method=hybrid`)).body,
      similar: (await fresh(ref.port, `/v1/items/${encodeURIComponent(ids.items[0])}/similar?k=${K}&method=hybrid`)).body,
      batch: (await fresh(ref.port, '/v1/recommendations/batch', 'POST', JSON.stringify({ requests: ids.users.slice(0, 10).map((userId) => ({ userId, k: K, method: 'hybrid' })) }))).body,
      events: JSON.stringify({ accepted: 1, rejected: [] }),
    }
    const bodiesFile = join(await mkdtemp(join(tmpdir(), 'hashrec-bench-')), 'bodies.json')
    await writeFile(bodiesFile, JSON.stringify(bodies))
    console.log(`response bytes (from ${ref.name}): user ${bodies.user.length}, similar ${bodies.similar.length}, batch ${bodies.batch.length}`)
    for (const w of workerCounts) {
      const s = await start(`bare-w${w}`, 'bare', w, { BODIES: bodiesFile })
      servers.push(s)
      s.ids = ids
      s.stream = new RequestStream(ids)
      await ready(s)
    }

    // Warm-up: JIT, page-in of the model; a longer one measures a service that has been running
    // (a fuller result cache), where the stream's users have come back more often.
    for (const s of servers) await drive(s, 'user', Number(args['warmup-seconds']))
    const countersBefore = new Map<string, WorkerCounters>()
    for (const s of servers.filter((x) => x.kind === 'hashrec')) countersBefore.set(s.name, await workerCounters(s))
    const runs = new Map<string, Run[]>()
    const duration = Number(args.duration)
    for (let round = 0; round < Number(args.rounds); round++) {
      // Each round starts one server later: the first cell after the warm-ups (or after the others'
      // cells) follows the longest idle spell, and measured up to ~15% slower, so no
      // server takes that place every round.
      const order = servers.map((_, i) => servers[(i + round) % servers.length])
      for (const mix of mixes) {
        for (const s of order) {
          const r = await drive(s, mix, duration)
          const key = `${s.name}|${mix}`
          runs.set(key, [...(runs.get(key) ?? []), r])
          console.log(`round ${round + 1} ${mix.padEnd(5)} ${s.name.padEnd(12)} ${r.rps.toFixed(0).padStart(6)} req/s (2xx ${r.goodput.toFixed(0)}/s, 503 ${r.s503}) p50 ${r.p50} ms p99 ${r.p99} ms errors ${r.errors} timeouts ${r.timeouts} non-2xx ${r.non2xx}, server CPU ${r.cpuUs.toFixed(1)} us/response (load ${load()})`)
        }
      }
    }

    console.log(`\n${CONNECTIONS} connections, ${duration} s x ${args.rounds} rounds per cell, medians; hybrid k=${K}; load average after: ${load()}`)
    console.log('\n| server | mix | responses/s | 2xx/s | p50 ms | p99 ms | errors | timeouts | non-2xx (503) | 2xx/s / bare (same WORKERS) | server CPU µs / response |')
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const mix of mixes) {
      for (const s of servers) {
        const r = runs.get(`${s.name}|${mix}`)!
        const bare = runs.get(`bare-w${s.workers}|${mix}`)!
        const ratio = median(r.map((x, i) => x.goodput / bare[i].goodput))
        const sum = (f: (x: Run) => number): number => r.reduce((a, x) => a + f(x), 0)
        console.log(`| ${s.name} | ${mix} | ${median(r.map((x) => x.rps)).toFixed(0)} | ${median(r.map((x) => x.goodput)).toFixed(0)} | ${median(r.map((x) => x.p50))} | ${median(r.map((x) => x.p99))} | ${sum((x) => x.errors)} | ${sum((x) => x.timeouts)} | ${sum((x) => x.non2xx)} (${sum((x) => x.s503)}) | ${ratio.toFixed(2)} | ${median(r.map((x) => x.cpuUs)).toFixed(1)} |`)
      }
    }

    for (const s of servers.filter((x) => x.kind === 'hashrec')) {
      const now = await workerCounters(s)
      const before = countersBefore.get(s.name)!
      const share = (c: number, m: number): string => c + m > 0 ? `${(100 * c / (c + m)).toFixed(1)}%` : 'none'
      const [cached, computed] = [now.cached - before.cached, now.computed - before.computed]
      console.log(`${s.name}: result cache ${share(cached, computed)} of user and similar-items answers in the rounds (${cached} cached, ${computed} computed), ${share(now.cached, now.computed)} since start; ${now.warmed} answers warmed before serving (longest worker ${now.warmSeconds.toFixed(1)} s)`)
      // Hits take ~1 µs in the domain, so this is close to what one computed answer costs in a busy worker.
      const domainUs = 1e6 * (now.domainSeconds - before.domainSeconds)
      if (computed > 0) console.log(`${s.name}: time in the recommendation domain in the rounds ${(domainUs / 1e6).toFixed(2)} s, ${(domainUs / computed).toFixed(0)} µs per computed answer (hits included in the sum)`)
      // GC pauses in the rounds, all workers: the main-thread pauses behind the tail latency.
      const gc = [...now.gc].map(([kind, g]) => {
        const b = before.gc.get(kind)!
        return `${kind} ${g.count - b.count} (${(1000 * (g.seconds - b.seconds)).toFixed(0)} ms, ${g.over10ms - b.over10ms} over 10 ms)`
      })
      console.log(`${s.name}: GC pauses in the rounds: ${gc.join(', ')}; heap after, all workers: young generation ${now.newSpaceMiB.toFixed(0)} MiB, old space used ${now.oldUsedMiB.toFixed(0)} MiB`)
    }

    console.log('\n| server | process | RSS MiB |')
    console.log('|---|---|---:|')
    for (const s of servers) {
      if (s.workers > 1) console.log(`| ${s.name} | primary ${s.proc.pid} | ${rssMiB(s.proc.pid!).toFixed(0)} |`)
      for (const pid of s.pids) console.log(`| ${s.name} | worker ${pid} | ${rssMiB(pid).toFixed(0)} |`)
    }

    const target = servers.find((s) => s.name === args['spike-target']) ?? servers[0]
    const sustainable = median(runs.get(`${target.name}|user`)?.map((x) => x.goodput) ?? [0])
    if (sustainable > 0) {
      const spikeSeconds = Number(args['spike-seconds'])
      const rate = Math.round(4 * sustainable)
      console.log(`\nspike on ${target.name}: sustainable ${sustainable.toFixed(0)} req/s (user mix, ${CONNECTIONS} connections); ${rate} req/s offered over ${4 * CONNECTIONS} connections for ${spikeSeconds} s (load ${load()})`)
      const spike = await drive(target, 'user', spikeSeconds, 4 * CONNECTIONS, rate)
      const ended = performance.now()
      const share = spike.total > 0 ? spike.s503 / (spike.total + spike.timeouts) : 0
      console.log(`spike: ${spike.rps.toFixed(0)} responses/s, ${spike.total} responses, 503 ${spike.s503} (${(100 * share).toFixed(1)}%), other non-2xx ${spike.non2xx - spike.s503}, timeouts ${spike.timeouts}, errors ${spike.errors}, p50 ${spike.p50} ms, p99 ${spike.p99} ms`)
      // Recovery: sequential requests until 20 in a row are 200 within 50 ms.
      let streak = 0; let first200 = -1
      while (streak < 20 && performance.now() - ended < 30_000) {
        const r = await fresh(target.port, target.stream!.userPath()).catch(() => ({ status: 0, ms: Infinity }))
        const ok = (r.status === 200 || r.status === 404) && r.ms < 50
        if (ok && first200 < 0) first200 = performance.now() - ended
        streak = ok ? streak + 1 : 0
      }
      console.log(`recovery: first fast 2xx ${(first200 / 1000).toFixed(2)} s after the spike, 20 in a row by ${((performance.now() - ended) / 1000).toFixed(2)} s`)
      const after = await drive(target, 'user', duration)
      console.log(`after the spike (${CONNECTIONS} connections, ${duration} s): ${after.rps.toFixed(0)} req/s p50 ${after.p50} ms p99 ${after.p99} ms non-2xx ${after.non2xx} timeouts ${after.timeouts} (load ${load()})`)
    }
  } finally {
    cleanup()
    await Promise.all(servers.map((s) => s.proc.exitCode === null ? once(s.proc, 'exit') : undefined))
  }
  if (args.profile !== '') printProfiles()
}

/** Each profiled process's top functions (the whole run, model load included: loaders show up too). */
function printProfiles (): void {
  for (const dir of existsSync(args.profile) ? readdirSync(args.profile) : []) {
    for (const file of readdirSync(join(args.profile, dir)).filter((f) => f.endsWith('.cpuprofile'))) {
      const { busyMs, idleMs, top } = selfTimes(join(args.profile, dir, file))
      // The cluster primary serves nothing: skip profiles that were idle throughout.
      if (busyMs < 1000) continue
      console.log(`\n${dir} ${file}: busy ${(busyMs / 1000).toFixed(1)} s, idle ${(idleMs / 1000).toFixed(1)} s\n\n| function | self ms | share of busy |\n|---|---:|---:|`)
      for (const t of top.slice(0, 20)) console.log(`| ${t.name.replace(/\|/g, '\\|')} | ${t.ms.toFixed(0)} | ${(100 * t.share).toFixed(1)}% |`)
    }
  }
}

main().catch((err: unknown) => { console.error(err); process.exitCode = 1 })
