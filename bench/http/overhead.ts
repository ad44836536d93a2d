/**
 * The HTTP layer's per-request overhead (the target: validation and serialization within 30% of
 * a bare fastify route returning the same JSON). One child process serves four apps over the same
 * model and the same recommender instance (the service's, whose answers carry their JSON):
 *   full   - the service app as `npm start` runs it (zod validation, zod-typed responses, problem+json
 *            errors, metrics and request-id hooks), logger off so log I/O is not measured;
 *   schema - fastify with the service's route schemas (zod params/querystring/response through
 *            fastify-type-provider-zod, the service's serializer) and nothing else: validation and
 *            serialization alone;
 *   bare   - fastify with one schemaless route that parses k/method by hand, calls the same
 *            recommender and sends its answer's JSON;
 *   static - fastify returning a precomputed JSON string (the floor: HTTP alone, no search).
 * autocannon runs in this process against each in turn, for several interleaved rounds, so noise
 * from the shared machine hits all alike. Reported per round and as medians: throughput and the
 * server's CPU time per request (process.cpuUsage around each run, steadier than throughput on a
 * loaded machine), and their ratios to `bare`.
 *
 *   npm run bench:http-overhead -- [--model models/default] [--method hamming] [--duration 1] [--rounds 21]
 */
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import Fastify, { type FastifyInstance } from 'fastify'
import { validatorCompiler, serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { asReply, checkedSerializerCompiler, plainSerializerCompiler } from '../../src/answer-json.js'
import { buildApp } from '../../src/app.js'
import { createConfig } from '../../src/config.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import type { Model } from '../../src/model-loader/model.js'
import { writeBundle } from '../../src/model-loader/write-bundle.js'
import { problems, RecommendationResponseSchema, RecommendQuerySchema, UserParamsSchema } from '../../src/routes/schemas.js'
import { testBundleInput } from '../../test/helpers/bundle-fixture.js'

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    method: { type: 'string', default: 'hamming' },
    k: { type: 'string', default: '10' },
    duration: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '21' },
    connections: { type: 'string', default: '10' },
    /** Serve `full` and `schema` with response validation on (the test setting) to measure its cost. */
    'validate-responses': { type: 'boolean', default: false },
    server: { type: 'boolean', default: false },
  },
})

const SERVERS = ['full', 'schema', 'bare', 'static'] as const
type ServerName = (typeof SERVERS)[number]
const ROUTE = '/v1/users/:userId/recommendations'

async function benchModel (): Promise<Model> {
  if (existsSync(join(args.model, 'manifest.json'))) return loadModel(args.model)
  // No trained model: a synthetic 10k-item, 64-d, 64-bit bundle so the bench runs on a fresh clone.
  const dir = join('.bench-tmp', 'http-overhead-bundle')
  if (!existsSync(join(dir, 'manifest.json'))) {
    await writeBundle(dir, testBundleInput({ items: 10_000, users: 1000, dimension: 64, codeBits: 64, popularity: true, hnsw: { space: 'ip', M: 16, efConstruction: 100, efSearch: 64, randomSeed: 100, prebuild: true } }))
  }
  return loadModel(dir)
}

async function serve (): Promise<void> {
  const model = await benchModel()
  const validate = args['validate-responses']
  const full = await buildApp({ config: createConfig({ VALIDATE_RESPONSES: validate ? 'true' : 'false' }), model })
  await full.ready()
  const rec = full.modelStore.active!

  const schema = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>()
  schema.setValidatorCompiler(validatorCompiler)
  schema.setSerializerCompiler(validate ? checkedSerializerCompiler(serializerCompiler) : plainSerializerCompiler)
  schema.get(ROUTE, {
    schema: { params: UserParamsSchema, querystring: RecommendQuerySchema, response: { 200: RecommendationResponseSchema, ...problems(400, 500, 503) } },
  }, async (request) => asReply(rec.forUser(request.params.userId, request.query)))

  const bare = Fastify({ logger: false })
  bare.get(ROUTE, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>
    const method = q.method === 'mips' || q.method === 'hamming' ? q.method : 'hybrid'
    return reply.type('application/json; charset=utf-8').send(rec.forUser((request.params as { userId: string }).userId, { k: Number(q.k ?? 10), method }).json)
  })

  const user = model.users.size > 0 ? model.users.idAt(0) : 'anyone'
  const fixed = rec.forUser(user, { k: Number(args.k), method: args.method as 'hamming' }).json
  const fixedApp = Fastify({ logger: false })
  fixedApp.get(ROUTE, async (_request, reply) => reply.type('application/json; charset=utf-8').send(fixed))

  const apps: Record<ServerName, FastifyInstance> = { full, schema: schema as unknown as FastifyInstance, bare, static: fixedApp }
  const ports: Record<string, string> = {}
  for (const name of SERVERS) ports[name] = new URL(await apps[name].listen({ port: 0, host: '127.0.0.1' })).port
  process.on('message', (m) => { if (m === 'cpu') { const u = process.cpuUsage(); process.send!({ cpu: u.user + u.system }) } })
  process.send!({ ports, user, model: `${model.id}@${model.version}`, items: model.items.size, bytes: fixed.length })
}

interface Run { rps: number, latencyMean: number, non2xx: number, cpuUs: number }

let child: ChildProcess

function serverCpu (): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if (typeof m === 'object' && m !== null && 'cpu' in m) { child.off('message', on); resolve((m as { cpu: number }).cpu) }
    }
    child.on('message', on)
    child.send('cpu')
  })
}

async function load (port: string, path: string, seconds: number): Promise<Run> {
  const before = await serverCpu()
  const r = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: Number(args.connections), duration: seconds })
  const cpu = (await serverCpu()) - before
  return { rps: r.requests.average, latencyMean: r.latency.average, non2xx: r.non2xx + r.errors, cpuUs: cpu / Math.max(1, r.requests.total) }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

async function main (): Promise<void> {
  child = fork(process.argv[1], ['--server', '--model', args.model, '--method', args.method, '--k', args.k, ...(args['validate-responses'] ? ['--validate-responses'] : [])], { execArgv: process.execArgv })
  const info = await new Promise<{ ports: Record<ServerName, string>, user: string, model: string, items: number, bytes: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as never))
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
  try {
    const path = `/v1/users/${encodeURIComponent(info.user)}/recommendations?k=${args.k}&method=${args.method}`
    console.log(`model ${info.model} (${info.items} items), GET ${path}, ${info.bytes} B response, ${args.connections} connections, ${args.duration} s x ${args.rounds} rounds, response validation ${args['validate-responses'] ? 'on' : 'off (production default)'}`)
    for (const name of SERVERS) await load(info.ports[name], path, 3) // warm-up: JIT, route caches
    const runs = Object.fromEntries(SERVERS.map((n) => [n, [] as Run[]])) as Record<ServerName, Run[]>
    for (let round = 0; round < Number(args.rounds); round++) {
      const line: string[] = []
      for (const name of SERVERS) {
        const r = await load(info.ports[name], path, Number(args.duration))
        if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} failed responses`)
        runs[name].push(r)
        line.push(`${name} ${r.rps.toFixed(0)} req/s ${r.cpuUs.toFixed(1)} us`)
      }
      const b = runs.bare[round]
      console.log(`round ${round + 1}: ${line.join(', ')}; cpu/bare: full ${(runs.full[round].cpuUs / b.cpuUs).toFixed(3)}, schema ${(runs.schema[round].cpuUs / b.cpuUs).toFixed(3)}`)
    }
    console.log('\n| server | median req/s | per-request us (1/throughput) | server CPU us/request | CPU / bare (median of rounds) | time / bare (median of rounds) |')
    console.log('|---|---:|---:|---:|---:|---:|')
    for (const name of SERVERS) {
      const r = runs[name]
      const cpuRatio = median(r.map((x, i) => x.cpuUs / runs.bare[i].cpuUs))
      const timeRatio = median(r.map((x, i) => runs.bare[i].rps / x.rps))
      console.log(`| ${name} | ${median(r.map((x) => x.rps)).toFixed(0)} | ${(1e6 / median(r.map((x) => x.rps))).toFixed(1)} | ${median(r.map((x) => x.cpuUs)).toFixed(1)} | ${cpuRatio.toFixed(3)} | ${timeRatio.toFixed(3)} |`)
    }
  } finally {
    child.kill('SIGTERM')
  }
}

if (args.server) {
  serve().catch((err: unknown) => { console.error(err); process.exit(1) })
} else {
  main().catch((err: unknown) => { console.error(err); process.exitCode = 1 })
}
