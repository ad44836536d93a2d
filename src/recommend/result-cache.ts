/**
 * Whole recommendations kept between requests. A frontend asks for the same user's top-K again
 * and again (page views, refreshes, a carousel and a page that both ask), and with Zipf-like
 * traffic most requests come from users asked for recently; on a 1M-item catalog each one is a
 * ~70 µs hybrid search. A user's answer depends on the model, the request (k, method, ef, exclude,
 * excludeSeen, filters, offset, diversity, what to add to each item), the catalog rules (an
 * epoch the recommender checks kept answers against: any rule change makes them stale), the user id
 * (which fixes their training items) and their recent history in order,
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

/**
 * Default budget of the answers kept per recommender (RESULT_CACHE_BYTES): ~100k top-10 answers
 * with titles (~1.3 KB each, by the estimate below). A budget is a ceiling, not an allocation: a
 * small model's few users take little. On the 1M bench (100k Zipf users, a minute's warm-up)
 * 128 MiB answered 95-96% from the cache against 85% at 32 MiB, for ~20-40 MiB more RSS per
 * worker (BENCHMARKS.md, session 10).
 */
export const DEFAULT_RESULT_CACHE_BYTES = 128 * 1024 * 1024

/**
 * An answer's JSON, made once, on the answer itself: a non-enumerable symbol property, which
 * JSON.stringify, object spreads and deep equality all skip.
 */
const BODY = Symbol('hashrec.answerJson')
interface WithBody { readonly [BODY]?: string }

/** The items of a kept answer, parsed from its JSON when something reads them (a copy each time). */
function itemsFromBody (this: WithBody): RecommendationResult['items'] {
  return (JSON.parse(this[BODY]!) as RecommendationResult).items
}

/** Strings in JSON above U+00FF make V8 store the whole string at two bytes a character. */
const WIDE = /[\u0100-\uffff]/

/**
 * What a cache keeps of a computed answer, and its estimated heap bytes. The kept answer has the
 * same fields in the same order, but holds its items only as its JSON, which is what a hit sends:
 * one string instead of ~25 objects per answer, so a budget holds ~2.5x the answers (session 7's
 * heap measurement is in BENCHMARKS.md) and the major GC has far fewer objects to mark. Reading
 * `items` (a degraded copy, responses checked against their schema, tests) parses them. Both the
 * computed answer, which the request that computed it gets, and the kept one are frozen and carry
 * the JSON, so neither is serialized again and nothing can change what later requests get.
 */
export function keepAnswer (result: RecommendationResult): { readonly answer: RecommendationResult, readonly bytes: number } {
  for (const item of result.items) Object.freeze(item)
  Object.freeze(result.items)
  const body = JSON.stringify(result)
  Object.defineProperty(result, BODY, { value: body })
  Object.freeze(result)
  const answer: Record<string | symbol, unknown> = {}
  let fields = 0
  for (const key of Object.keys(result) as Array<keyof RecommendationResult>) {
    if (key === 'items') Object.defineProperty(answer, key, { get: itemsFromBody, enumerable: true })
    else answer[key] = result[key]
    fields++
  }
  Object.defineProperty(answer, BODY, { value: body })
  Object.freeze(answer)
  // The object (header and ~12 bytes a field), the accessor pair, the string (header and one or
  // two bytes a character). The field values are shared: interned literals and the model version.
  const bytes = 48 + 12 * fields + 32 + 24 + (WIDE.test(body) ? 2 : 1) * body.length
  return { answer: answer as unknown as RecommendationResult, bytes }
}

/** JSON of a response: an answer kept by a cache (and the batch of them) carries its own. */
export function answerJson (data: unknown): string {
  if (typeof data === 'object' && data !== null) {
    const body = (data as WithBody)[BODY]
    if (body !== undefined) return body
  }
  return JSON.stringify(data)
}

/**
 * A batch response whose JSON is made from its answers' own (a kept answer is not parsed and
 * serialized again), carried the same way as a kept answer's.
 */
export function withBatchJson<T extends { modelVersion: string, results: readonly unknown[] }> (response: T): T {
  let body = `{"modelVersion":${JSON.stringify(response.modelVersion)},"results":[`
  for (let i = 0; i < response.results.length; i++) body += (i > 0 ? ',' : '') + answerJson(response.results[i])
  Object.defineProperty(response, BODY, { value: body + ']}' })
  return response
}

/**
 * The cache key of a request: kind ('u' user, 'i' similar items, 'p' the popularity fallback of any
 * user without signal), id and every option that changes the answer. Ids are length-prefixed, so
 * no id can end where another begins.
 */
export function resultKey (kind: 'u' | 'i' | 'p', id: string, opts: RecommendOptions, excludeSeen: boolean): string {
  let key = `${kind}${opts.k}|${opts.method}|${opts.ef ?? ''}|${excludeSeen ? 1 : 0}|${id.length}:${id}`
  if (opts.exclude !== undefined) for (const x of opts.exclude) key += `|${x.length}:${x}`
  // The listing options, each under its own tag and only when given: the default request's key is unchanged.
  if (opts.tags !== undefined) key += `|t${ids(opts.tags)}`
  if (opts.excludeTags !== undefined) key += `|x${ids(opts.excludeTags)}`
  if (opts.allowedItemIds !== undefined) key += `|a${ids(opts.allowedItemIds)}`
  if (opts.offset !== undefined) key += `|o${opts.offset}`
  if (opts.diversity !== undefined && opts.diversity > 0) key += `|d${opts.diversity}`
  if (opts.explain === true || opts.withTags === true || opts.measureDiversity === true) key += `|f${opts.explain === true ? 1 : 0}${opts.withTags === true ? 1 : 0}${opts.measureDiversity === true ? 1 : 0}`
  return key
}

/** Ids (or tags) length-prefixed, so no list can end where another begins. */
function ids (list: readonly string[]): string {
  let out = `${list.length}`
  for (const x of list) out += `,${x.length}:${x}`
  return out
}
