/**
 * /healthz while a reload builds a missing HNSW index. Starts the service (one process) on a small
 * bundle, then reloads a bundle of `--items` items without items.hnsw (the service's default HNSW
 * parameters: M 16, efConstruction 200), and meanwhile asks /healthz over one keep-alive
 * connection, one request after the other, until the reload answers. Prints the build time and the
 * /healthz latencies during the reload (the build runs in a worker thread; on the event loop it
 * held every request for the whole build).
 *
 *   npm run bench:reload-build -- [--items 20000] [--dimension 64] [--runs 3] [--service-dir ../base]
 *
 * `--service-dir` serves from another checkout's src/index.ts (e.g. `git worktree add ../base main`
 * with node_modules linked): the same measurement of another commit, for an A/B.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { generateSyntheticCatalog } from '../lib/synthetic-catalog.js'
import { writeBundle } from '../../src/model-loader/write-bundle.js'

const { values } = parseArgs({ options: { items: { type: 'string', default: '20000' }, dimension: { type: 'string', default: '64' }, runs: { type: 'string', default: '3' }, 'service-dir': { type: 'string', default: '.' } } })
const ITEMS = Number(values.items)
const D = Number(values.dimension)
const RUNS = Number(values.runs)
const TOKEN = 'bench-reload-build-token-0123'

async function bundle (dir: string, items: number, version: string, hnswFile: boolean): Promise<void> {
  const cat = generateSyntheticCatalog({ items, dimension: D, codeBits: 64, queries: 100, seed: items })
  await writeBundle(dir, {
    model: { id: 'synthetic', version },
    dimension: D,
    codeBits: 64,
    items: Array.from({ length: items }, (_, i) => ({ id: `item-${i}` })),
    users: Array.from({ length: 100 }, (_, i) => `user-${i}`),
    tables: {
      user: { dedicatedRows: 100, sharedRows: 0, aggregation: 'sum', hash: { function: 'murmur3_x86_32', seeds: [1, 2] } },
      item: { dedicatedRows: items, sharedRows: 0, aggregation: 'sum', hash: { function: 'murmur3_x86_32', seeds: [3, 4] } },
    },
    tensors: { itemCodes: cat.codeBytes, userCodes: new Uint8Array(cat.queryCodes.buffer, cat.queryCodes.byteOffset, cat.queryCodes.byteLength), itemEmbeddings: cat.itemVectors, userEmbeddings: cat.queryVectors },
    // No hnsw section: the loader's defaults (M 16, efConstruction 200), and no file: it builds one.
    ...(hnswFile ? { hnsw: { space: 'ip' as const, M: 16, efConstruction: 200, efSearch: 64, randomSeed: 100, prebuild: true } } : {}),
  })
}

function call (agent: Agent | false, port: number, method: string, path: string, body?: unknown): Promise<{ status: number, body: string }> {
  return new Promise((done, fail) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: payload === undefined ? {} : { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => done({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', fail)
    req.end(payload)
  })
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]

/** Waits for the service to serve, then times /healthz through each reload. */
async function measure (output: () => string): Promise<void> {
  while (!/hashrec serving \S+ at http:\/\/[^:]+:(\d+)/.test(output())) await new Promise((r) => setTimeout(r, 50))
  const port = Number(/hashrec serving \S+ at http:\/\/[^:]+:(\d+)/.exec(output())![1])
  console.log(`machine: nproc ${cpus().length}, ${cpus()[0]?.model ?? '?'}, node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  console.log(`${ITEMS} items x ${D} dimensions, HNSW M 16, efConstruction 200, built by the reload; service ${resolve(values['service-dir'])}`)
  console.log('run  build s  reload s  /healthz answered  p50 ms  p99 ms  max ms')
  for (let r = 0; r < RUNS; r++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const latencies: number[] = []
    let done = false
    const reload = call(false, port, 'POST', '/admin/model/reload', { dir: `big-${r}` }).finally(() => { done = true })
    while (!done) {
      const t0 = performance.now()
      const res = await call(agent, port, 'GET', '/healthz')
      if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`)
      latencies.push(performance.now() - t0)
    }
    const answer = await reload
    if (answer.status !== 200) throw new Error(`reload answered ${answer.status}: ${answer.body}`)
    const parsed = JSON.parse(answer.body) as { durationMs: number, model: { hnsw: { buildMs: number, source: string } } }
    agent.destroy()
    latencies.sort((a, b) => a - b)
    console.log(`${String(r + 1).padStart(3)}  ${(parsed.model.hnsw.buildMs / 1000).toFixed(1).padStart(7)}  ${(parsed.durationMs / 1000).toFixed(1).padStart(8)}  ${String(latencies.length).padStart(17)}  ${pct(latencies, 0.5).toFixed(2).padStart(6)}  ${pct(latencies, 0.99).toFixed(2).padStart(6)}  ${latencies[latencies.length - 1].toFixed(1).padStart(6)}`)
  }
}

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'hashrec-reload-build-'))
  try {
    await bundle(join(root, 'small'), 200, 'small', true)
    for (let r = 0; r < RUNS; r++) await bundle(join(root, `big-${r}`), ITEMS, `big-${r}`, false)
    const server = spawn(process.execPath, ['--import', 'tsx', resolve(values['service-dir'], 'src/index.ts')], {
      cwd: resolve(values['service-dir']),
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', WORKERS: '1', MODEL_DIR: join(root, 'small'), MODELS_ROOT: root, ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn', LOG_PRETTY: 'false', WARM_UP_USERS: '0', MAX_EVENT_LOOP_DELAY_MS: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = once(server, 'exit')
    let out = ''
    server.stdout!.on('data', (d: Buffer) => { out += d.toString() })
    try {
      await measure(() => out)
    } finally {
      server.kill('SIGTERM')
      await exited
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
