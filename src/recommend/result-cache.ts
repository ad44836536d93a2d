/**
 * Whole recommendations kept between requests. A frontend asks for the same user's top-K again
 * and again (page views, refreshes, a carousel and a page that both ask), and with Zipf-like
 * traffic most requests come from users asked for recently; on a 1M-item catalog each one is a
 * ~70 µs hybrid search. A user's answer depends on the model, the request (k, method, ef, exclude,
 * excludeSeen), the user id (which fixes their training items) and their recent history in order,
 * so entries are keyed by the first three and kept in a CheckedLru with the history's ids: a hit is the answer a search gave for the same inputs (and a
 * fresh search gives it again: the engines are deterministic per query, save that the Hamming
 * tables step aside for the exact scan while most recent queries overrun their budget), and a
 * new event changes the history, so it misses without any invalidation message. Answers that depend
 * on anything else (the trending fallback, which changes with everybody's events) are not kept;
 * the plain popularity fallback is kept once for all users without signal.
 *
 * One cache per recommender, so a model swap starts empty.
 */
import type { RecommendationResult, RecommendOptions } from './types.js'

/** Default budget of the answers kept per recommender (RESULT_CACHE_BYTES): ~10k top-10 answers with titles, by the estimate below. */
export const DEFAULT_RESULT_CACHE_BYTES = 32 * 1024 * 1024

/**
 * Answers held by a cache: frozen, and answered as is (the request that computed one gets it too),
 * so a hit allocates nothing but its key.
 */
const kept = new WeakSet<RecommendationResult>()
/** Their JSON, made when first serialized: hits skip the serializer too. */
const bodies = new WeakMap<RecommendationResult, string>()

/**
 * Freezes a computed answer (its items too) and marks it as kept. Routes that add to an answer
 * (`degraded`) copy it first; anything that writes to a kept answer throws instead of changing
 * what later requests get.
 */
export function keep (result: RecommendationResult): RecommendationResult {
  for (const item of result.items) Object.freeze(item)
  Object.freeze(result.items)
  kept.add(Object.freeze(result))
  return result
}

/** JSON of an answer; a kept answer's is made once. */
export function answerJson (data: unknown): string {
  if (typeof data !== 'object' || data === null || !kept.has(data as RecommendationResult)) return JSON.stringify(data)
  let body = bodies.get(data as RecommendationResult)
  if (body === undefined) {
    body = JSON.stringify(data)
    bodies.set(data as RecommendationResult, body)
  }
  return body
}

/**
 * The cache key of a request: kind ('u' user, 'i' similar items, 'p' the popularity fallback of any
 * user without signal), id and every option that changes the answer. Ids are length-prefixed, so
 * no id can end where another begins.
 */
export function resultKey (kind: 'u' | 'i' | 'p', id: string, opts: RecommendOptions, excludeSeen: boolean): string {
  let key = `${kind}${opts.k}|${opts.method}|${opts.ef ?? ''}|${excludeSeen ? 1 : 0}|${id.length}:${id}`
  if (opts.exclude !== undefined) for (const x of opts.exclude) key += `|${x.length}:${x}`
  return key
}

/** Estimated heap bytes of an answer and its JSON once made (objects, strings at two bytes a character). */
export function resultBytes (result: RecommendationResult): number {
  let bytes = 160 + 2 * (result.modelVersion.length + (result.methodNote?.length ?? 0))
  for (const item of result.items) bytes += 80 + 2 * (item.id.length + (item.title?.length ?? 0))
  return 2 * bytes
}
