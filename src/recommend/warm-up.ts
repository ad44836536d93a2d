/**
 * Answers made before a model takes traffic. A fresh recommender starts with an empty result
 * cache, so a new process, or every replica right after a model rollout, computes each user's
 * first answer on a request: on the 1M bench a computed answer costs a busy worker 144 µs in the
 * recommendation domain alone, and warming took the answers computed in the measured rounds from
 * 20.2% to 1.1% and server CPU per response from 84.2 to 55.2 µs (BENCHMARKS.md).
 * Warming computes the common request (WARM_UP_K, WARM_UP_METHOD or else the model's default method,
 * seen items excluded, no recent history) for the most active users first, while the process is not yet listening or while the
 * previous model still serves, and keeps each answer exactly as a request would have.
 *
 * A warmed answer is an ordinary cache entry: it is checked against the user's recent history like
 * any other, so a user with events since training misses once and gets a fresh answer. Warming
 * stops before the cache would start evicting what it warmed, and at a time budget.
 */
import type { Model } from '../model-loader/model.js'
import type { SearchMethod } from '../search/types.js'
import { nextTurn, runInSlices } from '../util/steps.js'
import type { AnswerFacts } from './answer-form.js'
import type { Recommender } from './recommender.js'
import type { RecommendRequest } from './types.js'

export interface WarmUpOptions {
  /** Most users to warm, most active first; 0 warms none. */
  readonly users: number
  /** Time budget in seconds; warming stops when it runs out. */
  readonly seconds: number
  /** The request warmed: top-k by this method (the API's default k is 10). */
  readonly k: number
  /**
   * Absent: the model's default method, the one a request that names none gets; the warmed answers
   * are then kept under the key those requests look up.
   */
  readonly method?: SearchMethod | undefined
}

export interface WarmUpReport {
  /** Answers computed and kept. */
  readonly answers: number
  readonly ms: number
  /** Why it stopped: every chosen user warmed, the time budget, the cache budget, nothing to do (off, no cache, no users), or an answer that threw. */
  readonly stoppedBy: 'done' | 'time' | 'cache' | 'off' | 'error'
  readonly error?: unknown
}

/** Stop once the cache holds this share of its budget: past it, each new answer would evict a warmed one. */
export const WARM_UP_CACHE_SHARE = 0.9
/** Milliseconds of warming between two turns of the event loop (a reload warms while the old model serves). */
const SLICE_MS = 5

/**
 * User rows, most training interactions first (ties by lower row), or in row order when the bundle
 * lists no seen items: a counting sort by interaction count, O(users + the largest count).
 */
export function usersByActivity (model: Model, limit: number): Int32Array {
  const n = Math.min(limit, model.users.size)
  const users = model.users.size
  const seen = model.userSeen
  const out = new Int32Array(n)
  if (seen === null) {
    for (let u = 0; u < n; u++) out[u] = u
    return out
  }
  let most = 0
  for (let u = 0; u < users; u++) most = Math.max(most, seen.indptr[u + 1] - seen.indptr[u])
  // starts[c]: where users with c interactions begin in the descending order.
  const starts = new Int32Array(most + 2)
  for (let u = 0; u < users; u++) starts[most - (seen.indptr[u + 1] - seen.indptr[u]) + 1]++
  for (let c = 1; c < starts.length; c++) starts[c] += starts[c - 1]
  for (let u = 0; u < users; u++) {
    const at = starts[most - (seen.indptr[u + 1] - seen.indptr[u])]++
    if (at < n) out[at] = u
  }
  return out
}

/**
 * Computes and keeps the answers of up to `options.users` users, most active first, yielding to
 * the event loop every few milliseconds. Never rejects: an answer that throws (none is expected)
 * stops the warm-up, which only saves later work, and is reported.
 */
export async function warmAnswers (rec: Pick<Recommender<AnswerFacts>, 'model' | 'stats' | 'warm'>, options: WarmUpOptions, pause: () => Promise<void> = nextTurn): Promise<WarmUpReport> {
  const started = performance.now()
  const budget = rec.stats.resultCacheBudgetBytes
  if (options.users <= 0 || budget <= 0 || rec.model.users.size === 0) return { answers: 0, ms: 0, stoppedBy: 'off' }
  const order = usersByActivity(rec.model, options.users)
  const opts: RecommendRequest = { k: options.k, method: options.method }
  const deadline = started + options.seconds * 1000
  const cacheLimit = budget * WARM_UP_CACHE_SHARE
  let answers = 0
  let error: unknown
  function * steps (): Generator<void, WarmUpReport['stoppedBy']> {
    for (let i = 0; i < order.length; i++) {
      if (rec.stats.resultCacheBytes >= cacheLimit) return 'cache'
      if ((i & 15) === 0 && performance.now() >= deadline) return 'time'
      try {
        if (rec.warm(rec.model.users.idAt(order[i]), opts)) answers++
      } catch (err) {
        error = err
        return 'error'
      }
      yield
    }
    return 'done'
  }
  const stoppedBy = await runInSlices(steps(), pause, SLICE_MS)
  const report = { answers, ms: performance.now() - started, stoppedBy }
  return error === undefined ? report : { ...report, error }
}
