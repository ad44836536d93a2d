/**
 * The active model and its engines and recommender, swapped as one reference. The serving facade
 * reads `active` once, synchronously, at the start of a request: a reload that completes meanwhile
 * replaces the reference for later requests and leaves in-flight ones on the old model.
 */
import { realpath } from 'node:fs/promises'
import { isAbsolute, resolve, sep } from 'node:path'
import { HttpProblem } from '../errors.js'
import { BundleError } from '../model-loader/errors.js'
import type { Model } from '../model-loader/model.js'
import type { AnswerFacts, AnswerForm } from '../recommend/answer-form.js'
import { createRecommender, type Recommender } from '../recommend/recommender.js'
import type { RecommenderEngines } from '../recommend/types.js'
import { warmAnswers, type WarmUpOptions, type WarmUpReport } from '../recommend/warm-up.js'
import type { RuleBook } from '../state/item-rules.js'

export interface ModelSlotOptions<A extends AnswerFacts> {
  readonly modelsRoot: string
  readonly initial: Model | null
  readonly loadModel: (dir: string) => Promise<Model>
  readonly createEngines: (model: Model) => RecommenderEngines
  readonly hybridCandidates: number
  /** Bytes of folded-in user vectors kept per model (RecommenderOptions.foldInCacheBytes). */
  readonly foldInCacheBytes?: number
  /** Bytes of whole answers kept per model (RecommenderOptions.resultCacheBytes). */
  readonly resultCacheBytes?: number
  /** The form the recommenders return and keep answers in (the service's: src/answer-json.ts). */
  readonly form: AnswerForm<A>
  /** Answers computed before a model serves (src/recommend/warm-up.ts); none when absent. */
  readonly warmUp?: WarmUpOptions
  /** The process's catalog rules, once the state store is open (RecommenderOptions.rules). */
  readonly rules?: () => RuleBook | undefined
}

/** Hooks for what happens to the slot (metrics, logs). */
export interface ModelSlotEvents<A extends AnswerFacts> {
  readonly activated: (rec: Recommender<A>) => void
  readonly reloaded: (result: 'success' | 'refused' | 'error') => void
  readonly warmed?: (rec: Recommender<A>, report: WarmUpReport) => void
}

export interface ReloadOutcome<A extends AnswerFacts> {
  readonly previous: Model | null
  readonly active: Recommender<A>
  readonly durationMs: number
}

export interface ModelSlot<A extends AnswerFacts> {
  /** The serving recommender (model + engines), or null before the first model. */
  readonly active: Recommender<A> | null
  readonly reloading: boolean
  activate (model: Model): Recommender<A>
  /** Resolves a directory named relative to the models root; refuses escapes (`..`, absolute paths, symlinks out). */
  resolveBundleDir (relative: string): Promise<string>
  /** Loads and validates in full, then swaps; the old model keeps serving when anything fails. */
  reload (relative: string): Promise<ReloadOutcome<A>>
  /**
   * Resolves when `rec` is fit to serve: its engines' background structures are built, then its
   * answers are warmed. Once per recommender (later calls share the first); a reload awaits it
   * before the swap, the process entry before it listens.
   */
  ready (rec: Recommender<A>): Promise<WarmUpReport>
}

/** Resolves `relative` under `modelsRoot`, refusing anything that escapes it. */
async function bundleDirUnder (modelsRoot: string, relative: string): Promise<string> {
  const parts = relative.split(/[\\/]/)
  if (isAbsolute(relative) || parts.includes('..')) {
    throw new HttpProblem('invalidParameters', 'dir must be a path relative to the models root without ".." segments', [{ name: 'body.dir', reason: 'escapes the models root' }])
  }
  let root: string
  let target: string
  try {
    root = await realpath(modelsRoot)
    target = await realpath(resolve(root, relative))
  } catch {
    throw new HttpProblem('modelNotFound', `no directory ${JSON.stringify(relative)} under the models root`)
  }
  // realpath resolves symlinks, so a link inside the root pointing outside is caught here.
  if (target !== root && !target.startsWith(root + sep)) {
    throw new HttpProblem('invalidParameters', 'dir resolves outside the models root', [{ name: 'body.dir', reason: 'escapes the models root' }])
  }
  return target
}

export function createModelSlot<A extends AnswerFacts> (options: ModelSlotOptions<A>, events: ModelSlotEvents<A>): ModelSlot<A> {
  let active: Recommender<A> | null = null
  let reloading = false
  const readiness = new WeakMap<Recommender<A>, Promise<WarmUpReport>>()

  /** Engines and recommender for a model: built before any swap, so a failure leaves the previous model serving. */
  function prepare (model: Model): Recommender<A> {
    return createRecommender(model, options.createEngines(model), { hybridCandidates: options.hybridCandidates, foldInCacheBytes: options.foldInCacheBytes, resultCacheBytes: options.resultCacheBytes, form: options.form, rules: options.rules })
  }

  function swap (next: Recommender<A>): void {
    active = next
    events.activated(next)
  }

  const slot: ModelSlot<A> = {
    get active () { return active },
    get reloading () { return reloading },

    activate (model) {
      const next = prepare(model)
      swap(next)
      return next
    },

    resolveBundleDir: (relative) => bundleDirUnder(options.modelsRoot, relative),

    async reload (relative) {
      if (reloading) throw new HttpProblem('reloadInProgress', 'another reload is running; retry when it finishes')
      reloading = true
      const started = performance.now()
      try {
        const dir = await slot.resolveBundleDir(relative)
        const model = await options.loadModel(dir)
        const previous = active?.model ?? null
        const next = prepare(model)
        // Structures the engines build in the background (large catalogs' tables and int8 copy)
        // and the warmed answers are made while the current model keeps serving; the swap waits.
        await slot.ready(next)
        swap(next)
        events.reloaded('success')
        return { previous, active: next, durationMs: performance.now() - started }
      } catch (err) {
        events.reloaded(err instanceof BundleError || err instanceof HttpProblem ? 'refused' : 'error')
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
          events.warmed?.(rec, report)
          return report
        })()
        readiness.set(rec, ready)
      }
      return ready
    },
  }
  if (options.initial) slot.activate(options.initial)
  return slot
}
