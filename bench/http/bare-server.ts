/**
 * The baseline for `npm run bench:http`: bare fastify (no schemas, hooks, logger or search) that
 * answers each route hashrec serves with a pre-serialized body of the same bytes hashrec sent for
 * it, in its own process, with the same WORKERS cluster layout. Its throughput is the ceiling of
 * fastify + node's HTTP stack on this machine, and hashrec's throughput target is a ratio to it
 * (at least 0.6 on the 1M bundle with p99 <= 10 ms and no errors, BENCHMARKS.md).
 *
 *   PORT=... WORKERS=1 BODIES=/path/bodies.json node --import tsx bench/http/bare-server.ts
 */
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const workers = Number(process.env.WORKERS ?? '1')
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
  process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM'); process.exit(0) })
} else {
  const bodies = JSON.parse(readFileSync(process.env.BODIES!, 'utf8')) as { user: string, similar: string, batch: string, events: string }
  const app = Fastify({ logger: false })
  const send = (body: string) => async (_req: unknown, reply: { type: (t: string) => { send: (b: string) => unknown } }) => reply.type('application/json; charset=utf-8').send(body)
  app.get('/v1/users/:userId/recommendations', send(bodies.user))
  app.get('/v1/items/:itemId/similar', send(bodies.similar))
  app.post('/v1/recommendations/batch', send(bodies.batch))
  app.post('/v1/events', async (_req, reply) => reply.code(202).type('application/json; charset=utf-8').send(bodies.events))
  app.get('/readyz', async () => ({ status: 'ready' }))
  if (cluster.isWorker) app.addHook('onRequest', (_r, reply, done) => { reply.header('x-hashrec-worker', String(process.pid)); done() })
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
  process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
}
