/**
 * The real-time state store (src/state): Redis when REDIS_URL is set, in-process otherwise, or one
 * injected by the caller (tests; a cluster worker's replica, src/index.ts), who then closes it.
 * `app.realtime` holds it with the model rollout between replicas (src/serving/model-rollout.ts),
 * and counts the store calls that failed or timed out.
 */
import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { stateOptions, type Config } from '../config.js'
import { createModelRollout, type ModelRollout } from '../serving/model-rollout.js'
import { createMemoryStore } from '../state/memory-store.js'
import { createRedisStore } from '../state/redis-store.js'
import type { StateStore } from '../state/types.js'

export interface StatePluginOptions {
  readonly config: Config
  /** A store opened by the caller (tests), who also closes it. */
  readonly store?: StateStore
}

export type DegradedOperation = 'history' | 'trending' | 'announce' | 'active-model'

export interface RealtimeState extends ModelRollout {
  readonly store: StateStore
  /** Counts a store call that failed or exceeded its time budget (hashrec_state_degraded_total). */
  degraded (operation: DegradedOperation): void
}

declare module 'fastify' {
  interface FastifyInstance {
    realtime: RealtimeState
  }
}

export default fp<StatePluginOptions>(async (app, options) => {
  const { config } = options
  const degradedTotal = new Counter({
    name: 'hashrec_state_degraded_total',
    help: 'State store calls that failed or exceeded their time budget, by operation (requests then served from the model alone).',
    labelNames: ['operation'] as const,
    registers: [app.metrics.registry],
  })
  const settings = stateOptions(config)
  let store = options.store
  if (store === undefined) {
    // ioredis reports every failed reconnect; one line per distinct message keeps an outage readable.
    let lastError = ''
    store = config.REDIS_URL === undefined
      ? createMemoryStore(settings)
      : await createRedisStore({
        url: config.REDIS_URL,
        keyPrefix: config.REDIS_KEY_PREFIX,
        writeTimeoutMs: config.REDIS_WRITE_TIMEOUT_MS,
        ...settings,
        onError: (err) => { if (err.message !== lastError) { lastError = err.message; app.log.warn({ err }, 'redis') } },
      })
    const opened = store
    app.addHook('onClose', async () => { await opened.close().catch((err: unknown) => app.log.error({ err }, 'closing the state store')) })
  }
  const degraded = (operation: DegradedOperation): void => { degradedTotal.labels(operation).inc() }
  const rollout = createModelRollout(store, app.modelStore, {
    modelsRoot: config.MODELS_ROOT,
    replicaId: config.REPLICA_ID ?? `${hostname()}:${process.pid}`,
    log: app.log,
    degraded,
  })
  app.decorate('realtime', { ...rollout, store, degraded })
  if (store.kind === 'redis') {
    const s = store
    app.readiness.add('redis', async () => {
      if (!(await s.ping())) throw new Error(`redis did not answer a PING within ${config.REDIS_TIMEOUT_MS} ms`)
    })
  } else if (store.kind === 'replicated') {
    const s = store
    app.readiness.add('state', async () => {
      if (!(await s.ping())) throw new Error('the state replica is not connected to the cluster primary')
    })
  }
}, { name: 'hashrec-state', dependencies: ['hashrec-metrics', 'hashrec-readiness', 'hashrec-model-store'], fastify: '5.x' })
