/**
 * Readiness: whether this replica can serve recommendations. It cannot without a model, and it
 * will not once it is draining (SIGTERM: src/plugins/drain.ts). Its dependencies (Redis, the
 * cluster primary's state channel) only degrade it: recommendations are then served from the model
 * alone, so a Redis blip must not take every replica out of a load balancer at once. A failing
 * dependency is reported in the /readyz body and in `hashrec_dependency_up` / `hashrec_degraded`.
 */
import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'

/** A check resolves when its dependency answers; it is given at most `timeoutMs`. */
export type ReadinessCheck = () => Promise<void>

export interface CheckResult {
  readonly name: string
  readonly ok: boolean
  readonly detail?: string
}

export type Phase = 'serving' | 'draining' | 'closing'

export interface Readiness {
  /** A dependency whose failure degrades the replica (reported, still ready). */
  add (name: string, check: ReadinessCheck): void
  run (): Promise<CheckResult[]>
  /**
   * serving; draining (SIGTERM received: /readyz answers 503, requests are still served); closing
   * (the listener is closed: every response carries Connection: close).
   */
  readonly phase: Phase
  setPhase (phase: Exclude<Phase, 'serving'>): void
}

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness
  }
}

export function createReadiness (timeoutMs: number): Readiness {
  const checks = new Map<string, ReadinessCheck>()
  let phase: Phase = 'serving'
  return {
    add (name, check) { checks.set(name, check) },
    async run () {
      return Promise.all([...checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined
        try {
          await Promise.race([
            check(),
            new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) }),
          ])
          return { name, ok: true }
        } catch (err) {
          return { name, ok: false, detail: (err as Error).message }
        } finally {
          clearTimeout(timer)
        }
      }))
    },
    get phase () { return phase },
    setPhase (next) { phase = next },
  }
}

export default fp<{ timeoutMs?: number }>(async (app, options) => {
  const readiness = createReadiness(options.timeoutMs ?? 1000)
  app.decorate('readiness', readiness)
  // Read at scrape time; in a cluster the merged view shows a dependency down on any worker (min)
  // and any worker degraded (max).
  new Gauge({
    name: 'hashrec_dependency_up',
    help: 'Whether a dependency answers its readiness check (1) or not (0): while one is down the replica serves degraded.',
    labelNames: ['dependency'] as const,
    registers: [app.metrics.registry],
    aggregator: 'min',
    async collect () {
      this.reset()
      for (const c of await readiness.run()) this.labels(c.name).set(c.ok ? 1 : 0)
    },
  })
  new Gauge({
    name: 'hashrec_degraded',
    help: 'Whether the replica serves degraded (1: a dependency is down, recommendations come from the model alone).',
    registers: [app.metrics.registry],
    aggregator: 'max',
    async collect () { this.set((await readiness.run()).some((c) => !c.ok) ? 1 : 0) },
  })
  // Once the listener is closed, answers tell keep-alive clients to reconnect (to another replica).
  app.addHook('onRequest', (_request, reply, done) => {
    if (readiness.phase === 'closing') reply.header('connection', 'close')
    done()
  })
}, { name: 'hashrec-readiness', dependencies: ['hashrec-metrics'], fastify: '5.x' })
