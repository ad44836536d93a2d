/**
 * The real-time state store (src/state): Redis when REDIS_URL is set, in-process otherwise, or one
 * injected by the caller (tests; a cluster worker's replica, src/index.ts). It gives the request
 * path history and trending under a time budget (a failure serves from the model alone,
 * `degraded: true`, counted), records event batches, and keeps replicas on one model: a reload is
 * announced over the store and every replica's listener reloads through the model store when it
 * is not serving the announced bundle.
 */
import { hostname } from 'node:os'
import { realpath } from 'node:fs/promises'
import { relative, sep } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { stateOptions, type Config } from '../config.js'
import { HttpProblem } from '../errors.js'
import type { Model } from '../model-loader/model.js'
import type { Recommender } from '../recommend/recommender.js'
import type { RealtimeContext } from '../recommend/types.js'
import { MAX_K } from '../routes/schemas.js'
import { StateUnavailableError } from '../state/errors.js'
import { createMemoryStore } from '../state/memory-store.js'
import { createRedisStore } from '../state/redis-store.js'
import type { ItemRule, ItemRulePatch } from '../state/item-rules.js'
import type { ActiveModel, InteractionEvent, StateStore } from '../state/types.js'
import type { ModelStore } from './model-store.js'

export interface StatePluginOptions {
  readonly config: Config
  /** A store opened by the caller (tests), who also closes it. */
  readonly store?: StateStore
}

/** What a recommendation request gets from the store; `degraded` when a call failed or timed out. */
export interface UserState {
  readonly context: RealtimeContext
  readonly degraded: boolean
}

export type DegradedOperation = 'history' | 'trending' | 'announce' | 'active-model'

export interface RealtimeState {
  readonly store: StateStore
  readonly replicaId: string
  /** History (and, for a user the model has no signal for, trending) for one user; never rejects. */
  userState (rec: Recommender, userId: string, excludeSeen: boolean, k: number): Promise<UserState>
  /**
   * The same, synchronously, when the store holds its state in this process (StateStore.now);
   * undefined for Redis, whose reads are asynchronous (call userState).
   */
  userStateNow (rec: Recommender, userId: string, excludeSeen: boolean, k: number): UserState | undefined
  /** Trending for a fallback that is certain to happen (a session without catalog items); never rejects. */
  trendingState (k: number): Promise<UserState>
  /** Stores the batch or throws HttpProblem `stateUnavailable` (nothing acknowledged). */
  recordEvents (events: readonly InteractionEvent[]): Promise<void>
  /** Changes an item's catalog rule (applied in this process when it resolves) or throws HttpProblem `stateUnavailable` (nothing changed). */
  patchItemRule (itemId: string, patch: ItemRulePatch): Promise<ItemRule | null>
  /** Records `model` as every replica's active model and announces it; false when the store is unavailable. */
  announce (model: Model): Promise<boolean>
  /** The active model recorded in the store, or null (none recorded, or the store unavailable: logged). */
  recordedModel (): Promise<ActiveModel | null>
  /** Resolves when every announcement received so far has been handled (tests, startup). */
  settled (): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    realtime: RealtimeState
  }
}

/** Announced paths are input from Redis: the same alphabet the reload route accepts, then resolveBundleDir. */
const ANNOUNCED_PATH = /^[A-Za-z0-9._\-/]+$/
/** A replica busy with its own reload retries an announcement this often, this many times. */
const RETRY_MS = 200
const RETRIES = 50

/** Whether a user's answer will be the fallback: the model has no signal for them and their history no catalog item. */
function needsFallback (rec: Recommender, userId: string, history: readonly string[]): boolean {
  return !rec.hasSignal(userId) && !history.some((id) => rec.model.items.rowOf(id) !== undefined)
}

/** How many trending items a fallback asks for: enough for k after exclusions, one cache entry for typical k. */
function trendingLimit (k: number): number {
  return Math.min(MAX_K, Math.max(100, 2 * k))
}

export function createRealtimeState (
  store: StateStore,
  modelStore: ModelStore,
  options: { modelsRoot: string, historyLength: number, replicaId: string, log: FastifyBaseLogger, degraded: (op: DegradedOperation) => void },
): RealtimeState {
  const { log } = options
  let queue: Promise<void> = Promise.resolve()

  async function sameBundle (active: Model, announced: ActiveModel): Promise<boolean> {
    if (active.version !== announced.version) return false
    try {
      return await realpath(active.dir) === await modelStore.resolveBundleDir(announced.path)
    } catch {
      return false
    }
  }

  async function follow (announced: ActiveModel): Promise<void> {
    if (!ANNOUNCED_PATH.test(announced.path)) {
      log.warn({ path: announced.path }, 'ignored a model announcement with an invalid path')
      return
    }
    for (let attempt = 0; ; attempt++) {
      const active = modelStore.active
      if (active !== null && await sameBundle(active.model, announced)) return
      // A later reload may have been recorded since this announcement was sent (announcements queue
      // here while a reload runs): follow only the recorded one, so replicas do not flip back and forth.
      const recorded = await store.getActiveModel().catch(() => null)
      if (recorded !== null && (recorded.path !== announced.path || recorded.version !== announced.version)) return
      try {
        const outcome = await modelStore.reload(announced.path)
        log.info({ from: outcome.previous?.version ?? null, to: outcome.active.model.version, by: announced.by, ms: Math.round(outcome.durationMs) }, 'swapped to the announced model')
        return
      } catch (err) {
        if (err instanceof HttpProblem && err.key === 'reloadInProgress' && attempt < RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
          continue
        }
        log.error({ err, path: announced.path, version: announced.version }, 'could not load the announced model; the current one keeps serving')
        return
      }
    }
  }

  store.onActiveModel((announced) => {
    // One at a time, in order: the last announcement wins.
    queue = queue.then(() => follow(announced))
  })

  return {
    store,
    replicaId: options.replicaId,

    userStateNow (rec, userId, excludeSeen, k) {
      const reads = store.now
      if (reads === undefined) return undefined
      const history = reads.recentItems(userId, options.historyLength)
      if (!needsFallback(rec, userId, history)) return { context: { history, excludeSeen }, degraded: false }
      return { context: { history, excludeSeen, trending: reads.trending(trendingLimit(k)) }, degraded: false }
    },

    async userState (rec, userId, excludeSeen, k) {
      let history: readonly string[]
      try {
        history = await store.recentItems(userId, options.historyLength)
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err
        options.degraded('history')
        // One budget per request: with history unavailable, trending almost surely is too.
        return { context: { excludeSeen }, degraded: true }
      }
      if (!needsFallback(rec, userId, history)) return { context: { history, excludeSeen }, degraded: false }
      try {
        return { context: { history, excludeSeen, trending: await store.trending(trendingLimit(k)) }, degraded: false }
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err
        options.degraded('trending')
        return { context: { history, excludeSeen }, degraded: true }
      }
    },

    async trendingState (k) {
      try {
        return { context: { trending: await store.trending(trendingLimit(k)) }, degraded: false }
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err
        options.degraded('trending')
        return { context: {}, degraded: true }
      }
    },

    async recordEvents (events) {
      try {
        await store.recordEvents(events)
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err
        throw new HttpProblem('stateUnavailable', `events were not stored: ${err.message}`)
      }
    },

    async patchItemRule (itemId, patch) {
      try {
        return await store.patchItemRule(itemId, patch)
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err
        throw new HttpProblem('stateUnavailable', `the rule was not changed: ${err.message}`)
      }
    },

    async announce (model) {
      const root = await realpath(options.modelsRoot)
      const path = relative(root, await realpath(model.dir)).split(sep).join('/')
      try {
        await store.publishActiveModel({ path, version: model.version, at: new Date().toISOString(), by: options.replicaId })
        return true
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err
        options.degraded('announce')
        log.warn({ err, path, version: model.version }, 'could not announce the reloaded model: other replicas keep theirs')
        return false
      }
    },

    async recordedModel () {
      try {
        return await store.getActiveModel()
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err
        options.degraded('active-model')
        log.warn({ err }, 'could not read the active model from the state store')
        return null
      }
    },

    settled () { return queue },
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
  const realtime = createRealtimeState(store, app.modelStore, {
    modelsRoot: config.MODELS_ROOT,
    historyLength: config.HISTORY_LENGTH,
    replicaId: config.REPLICA_ID ?? `${hostname()}:${process.pid}`,
    log: app.log,
    degraded: (op) => degradedTotal.labels(op).inc(),
  })
  app.decorate('realtime', realtime)
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
