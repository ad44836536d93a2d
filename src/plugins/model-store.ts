/**
 * The active model and its engines and recommender, swapped as one reference. Handlers read
 * `app.modelStore.active` once, synchronously, at the start of a request: a reload that completes
 * meanwhile replaces the reference for later requests and leaves in-flight ones on the old model.
 */
import { realpath } from 'node:fs/promises'
import { isAbsolute, resolve, sep } from 'node:path'
import fp from 'fastify-plugin'
import { HttpProblem } from '../errors.js'
import { BundleError } from '../model-loader/errors.js'
import type { Model } from '../model-loader/model.js'
import { createRecommender, type Recommender } from '../recommend/recommender.js'
import type { QueryEngines } from '../recommend/types.js'
import { warmAnswers, type WarmUpOptions, type WarmUpReport } from '../recommend/warm-up.js'
import type { RuleBook } from '../state/item-rules.js'

export interface ModelStoreOptions {
  readonly modelsRoot: string
  readonly initial: Model | null
  readonly loadModel: (dir: string) => Promise<Model>
  readonly createEngines: (model: Model) => QueryEngines
  readonly hybridCandidates: number
  /** Bytes of folded-in user vectors kept per model (RecommenderOptions.foldInCacheBytes). */
  readonly foldInCacheBytes?: number
  /** Bytes of whole answers kept per model (RecommenderOptions.resultCacheBytes). */
  readonly resultCacheBytes?: number
  /** Answers computed before a model serves (src/recommend/warm-up.ts); none when absent. */
  readonly warmUp?: WarmUpOptions
  /** The process's catalog rules, once the state store is open (RecommenderOptions.rules). */
  readonly rules?: () => RuleBook | undefined
}

export interface ReloadOutcome {
  readonly previous: Model | null
  readonly active: Recommender
  readonly durationMs: number
}

export interface ModelStore {
  /** The serving recommender (model + engines), or null before the first model. */
  readonly active: Recommender | null
  readonly reloading: boolean
  activate (model: Model): Recommender
  /** Resolves a directory named relative to the models root; refuses escapes (`..`, absolute paths, symlinks out). */
  resolveBundleDir (relative: string): Promise<string>
  /** Loads and validates in full, then swaps; the old model keeps serving when anything fails. */
  reload (relative: string): Promise<ReloadOutcome>
  /**
   * Resolves when `rec` is fit to serve: its engines' background structures are built, then its
   * answers are warmed. Once per recommender (later calls share the first); a reload awaits it
   * before the swap, the process entry before it listens.
   */
  ready (rec: Recommender): Promise<WarmUpReport>
}

declare module 'fastify' {
  interface FastifyInstance {
    modelStore: ModelStore
  }
}

export function createModelStore (
  options: ModelStoreOptions,
  onActivate: (rec: Recommender) => void,
  onReload: (result: 'success' | 'refused' | 'error') => void,
  onWarmUp: (rec: Recommender, report: WarmUpReport) => void = () => {},
): ModelStore {
  let active: Recommender | null = null
  let reloading = false
  const readiness = new WeakMap<Recommender, Promise<WarmUpReport>>()

  /** Engines and recommender for a model: built before any swap, so a failure leaves the previous model serving. */
  function prepare (model: Model): Recommender {
    return createRecommender(model, options.createEngines(model), { hybridCandidates: options.hybridCandidates, foldInCacheBytes: options.foldInCacheBytes, resultCacheBytes: options.resultCacheBytes, rules: options.rules })
  }

  function swap (next: Recommender): void {
    active = next
    onActivate(next)
  }

  const store: ModelStore = {
    get active () { return active },
    get reloading () { return reloading },

    activate (model) {
      const next = prepare(model)
      swap(next)
      return next
    },

    async resolveBundleDir (relative) {
      const parts = relative.split(/[\\/]/)
      if (isAbsolute(relative) || parts.includes('..')) {
        throw new HttpProblem('invalidParameters', 'dir must be a path relative to the models root without ".." segments', [{ name: 'body.dir', reason: 'escapes the models root' }])
      }
      let root: string
      let target: string
      try {
        root = await realpath(options.modelsRoot)
        target = await realpath(resolve(root, relative))
      } catch {
        throw new HttpProblem('modelNotFound', `no directory ${JSON.stringify(relative)} under the models root`)
      }
      // realpath resolves symlinks, so a link inside the root pointing outside is caught here.
      if (target !== root && !target.startsWith(root + sep)) {
        throw new HttpProblem('invalidParameters', 'dir resolves outside the models root', [{ name: 'body.dir', reason: 'escapes the models root' }])
      }
      return target
    },

    async reload (relative) {
      if (reloading) throw new HttpProblem('reloadInProgress', 'another reload is running; retry when it finishes')
      reloading = true
      const started = performance.now()
      try {
        const dir = await store.resolveBundleDir(relative)
        const model = await options.loadModel(dir)
        const previous = active?.model ?? null
        const next = prepare(model)
        // Structures the engines build in the background (large catalogs' tables and int8 copy)
        // and the warmed answers are made while the current model keeps serving; the swap waits.
        await store.ready(next)
        swap(next)
        onReload('success')
        return { previous, active: next, durationMs: performance.now() - started }
      } catch (err) {
        onReload(err instanceof BundleError || err instanceof HttpProblem ? 'refused' : 'error')
        throw err
      } finally {
        reloading = false
      }
    },

    ready (rec) {
      let ready = readiness.get(rec)
      if (ready === undefined) {
        ready = (async () => {
          await rec.engines.whenReady
          const report = options.warmUp ? await warmAnswers(rec, options.warmUp) : { answers: 0, ms: 0, stoppedBy: 'off' as const }
          onWarmUp(rec, report)
          return report
        })()
        readiness.set(rec, ready)
      }
      return ready
    },
  }
  if (options.initial) store.activate(options.initial)
  return store
}

export default fp<ModelStoreOptions>(async (app, options) => {
  const store = createModelStore(
    options,
    (rec) => app.metrics.setModel(rec.model, rec.engines.stats, rec.stats),
    (result) => app.metrics.reload(result),
    (rec, report) => {
      app.metrics.warmUp(report)
      const fields = { model: rec.model.id, version: rec.model.version, answers: report.answers, ms: Math.round(report.ms), stoppedBy: report.stoppedBy }
      if (report.error !== undefined) app.log.warn({ ...fields, err: report.error }, 'warming answers stopped at an error')
      else if (report.stoppedBy !== 'off') app.log.info(fields, 'warmed answers')
    },
  )
  app.decorate('modelStore', store)
}, { name: 'hashrec-model-store', dependencies: ['hashrec-metrics'], fastify: '5.x' })
