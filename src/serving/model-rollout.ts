/**
 * Replicas on one model. A successful reload is recorded in the state store and announced over
 * it; every replica follows an announcement by reloading through its model slot when it is not
 * serving the announced bundle, and a replica that starts later loads the recorded model.
 */
import { realpath } from 'node:fs/promises'
import { relative, sep } from 'node:path'
import { HttpProblem } from '../errors.js'
import type { Model } from '../model-loader/model.js'
import type { AnswerFacts } from '../recommend/answer-form.js'
import { StateUnavailableError } from '../state/errors.js'
import type { ActiveModel, StateStore } from '../state/types.js'
import type { ModelSlot } from './model-slot.js'

export interface RolloutLog {
  info (fields: Record<string, unknown>, msg: string): void
  warn (fields: Record<string, unknown>, msg: string): void
  error (fields: Record<string, unknown>, msg: string): void
}

export interface ModelRollout {
  /** Records `model` as every replica's active model and announces it; false when the store is unavailable. */
  announce (model: Model): Promise<boolean>
  /** The active model recorded in the store, or null (none recorded, or the store unavailable: logged). */
  recordedModel (): Promise<ActiveModel | null>
  /** Resolves when every announcement received so far has been handled (tests, startup). */
  settled (): Promise<void>
}

export interface ModelRolloutOptions {
  readonly modelsRoot: string
  /** Names this process in its announcements. */
  readonly replicaId: string
  readonly log: RolloutLog
  /** A store call that failed or timed out (counted). */
  readonly degraded: (operation: 'announce' | 'active-model') => void
}

/** Announced paths are input from the store: the same alphabet the reload route accepts, then the slot's resolveBundleDir. */
const ANNOUNCED_PATH = /^[A-Za-z0-9._\-/]+$/
/** A replica busy with its own reload retries an announcement this often, this many times. */
const RETRY_MS = 200
const RETRIES = 50

export function createModelRollout (store: StateStore, slot: ModelSlot<AnswerFacts>, options: ModelRolloutOptions): ModelRollout {
  const { log } = options
  let queue: Promise<void> = Promise.resolve()

  async function sameBundle (active: Model, announced: ActiveModel): Promise<boolean> {
    if (active.version !== announced.version) return false
    try {
      return await realpath(active.dir) === await slot.resolveBundleDir(announced.path)
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
      const active = slot.active
      if (active !== null && await sameBundle(active.model, announced)) return
      // A later reload may have been recorded since this announcement was sent (announcements queue
      // here while a reload runs): follow only the recorded one, so replicas do not flip back and forth.
      const recorded = await store.getActiveModel().catch(() => null)
      if (recorded !== null && (recorded.path !== announced.path || recorded.version !== announced.version)) return
      try {
        const outcome = await slot.reload(announced.path)
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
