/**
 * The HTTP path of two builds side by side in one process: each build's app (its dist/app.js)
 * serves the same loaded model on its own port, a keep-alive client in this process drives both
 * in alternating rounds, and the process's CPU time per request is compared. The client's share
 * is the same for both, so a difference is the servers'. Made for changes of a few percent to the
 * cache-hit path, which bench:http's req/s cannot resolve on a shared 2-core machine (its cells
 * move 10-15% between rounds); every answer here is a result-cache hit after the first round.
 *
 *   npm run build && (cd ../base && npm run build)
 *   npm run bench:http-ab -- --base ../base/dist [--new dist] [--model models/default] [--rounds 12]
 *     [--requests 20000] [--users 2000] [--concurrency 8]
 */
import { readFileSync } from 'node:fs'
import { Agent, get } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    new: { type: 'string', default: 'dist' },
    base: { type: 'string' },
    model: { type: 'string', default: 'models/default' },
    rounds: { type: 'string', default: '12' },
    requests: { type: 'string', default: '20000' },
    users: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
  },
})
if (args.base === undefined) throw new Error('--base DIR (the other build\'s dist) is required')
const BUILDS = { new: resolve(args.new), base: resolve(args.base) }
const ROUNDS = Number(args.rounds)
const REQUESTS = Number(args.requests)
const CONCURRENCY = Number(args.concurrency)

interface AppModule {
  buildApp (o: unknown): Promise<{ listen (o: unknown): Promise<string>, server: { address (): AddressInfo | string | null }, close (): Promise<void> }>
  loggerOptions (config: unknown, stream: { write (line: string): void }): unknown
}
const load = async <T>(dir: string, file: string): Promise<T> => await import(pathToFileURL(join(dir, file)).href) as T

const modelDir = resolve(args.model)
const { loadModel } = await load<{ loadModel (dir: string): Promise<unknown> }>(BUILDS.new, 'model-loader/load-bundle.js')
const model = await loadModel(modelDir)
const users = readFileSync(join(modelDir, 'users.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '').slice(0, Number(args.users)).map((l) => (JSON.parse(l) as { id: string }).id)
// Spread over the users so consecutive requests name different ones, as a real stream does.
const paths = Array.from({ length: 4096 }, (_, i) => `/v1/users/${encodeURIComponent(users[(i * 7919) % users.length])}/recommendations?k=10&method=hybrid`)

const ports: Record<string, number> = {}
const apps: Array<{ close (): Promise<void> }> = []
for (const [name, dir] of Object.entries(BUILDS)) {
  const { buildApp, loggerOptions } = await load<AppModule>(dir, 'app.js')
  const { createConfig } = await load<{ createConfig (o: Record<string, string>): unknown }>(dir, 'config.js')
  // The service's defaults (LOG_LEVEL info, no per-request lines, no response validation), logs
  // discarded; no load shedding, which on a busy shared machine would answer some requests 503.
  const config = createConfig({ MODEL_DIR: modelDir, MAX_EVENT_LOOP_DELAY_MS: '0' })
  // validateResponses: builds that predate VALIDATE_RESPONSES's single default took it as an option (on unless false).
  const app = await buildApp({ config, model, logger: loggerOptions(config, { write () {} }), validateResponses: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  ports[name] = (app.server.address() as AddressInfo).port
  apps.push(app)
}

const agent = new Agent({ keepAlive: true, maxSockets: 2 * CONCURRENCY })
let next = 0
function request (port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: paths[next++ & 4095], agent }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
      res.resume()
      res.on('end', resolve)
    }).on('error', reject)
  })
}

/** CPU µs of this process per request, over `n` requests kept `CONCURRENCY` in flight. */
async function run (port: number, n: number): Promise<number> {
  const t0 = process.cpuUsage()
  let sent = 0
  const lane = async (): Promise<void> => { while (sent++ < n) await request(port) }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  const d = process.cpuUsage(t0)
  return (d.user + d.system) / n
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1] }
for (const port of Object.values(ports)) await run(port, REQUESTS) // warm-up: JIT, every answer kept
const cpu: Record<string, number[]> = { new: [], base: [] }
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which build goes first, so neither always follows the other.
  for (const name of round % 2 === 0 ? ['base', 'new'] : ['new', 'base']) cpu[name].push(await run(ports[name], REQUESTS))
}
console.log(`${ROUNDS} rounds x ${REQUESTS} requests per build, ${CONCURRENCY} in flight, ${users.length} users of ${modelDir}`)
for (const name of ['new', 'base']) console.log(`${name.padEnd(4)} ${BUILDS[name as 'new']}: median ${median(cpu[name]).toFixed(2)} µs CPU per request (client and server) | ${cpu[name].map((x) => x.toFixed(1)).join(' ')}`)
const ratios = cpu.new.map((x, i) => x / cpu.base[i])
console.log(`new / base per round: ${ratios.map((r) => r.toFixed(3)).join(' ')}; median ${median(ratios).toFixed(3)}, new cheaper in ${ratios.filter((r) => r < 1).length} of ${ROUNDS}`)
await Promise.all(apps.map((a) => a.close()))
agent.destroy()
