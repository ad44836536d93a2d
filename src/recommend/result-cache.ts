/**
 * Whole recommendations kept between requests. A frontend asks for the same user's top-K again
 * and again (page views, refreshes, a carousel and a page that both ask), and with Zipf-like
 * traffic most requests come from users asked for recently; on a 1M-item catalog each one is a
 * ~70 µs hybrid search. A user's answer depends on the model, the request (k, method, ef, beam, exclude,
 * excludeSeen, filters, offset, diversity, what to add to each item), the catalog rules (an epoch
 * the recommender stamps kept answers with: any rule change makes them stale), the user id (which
 * fixes their training items) and their recent history in order, so entries are keyed by the
 * request and the id and kept in a CheckedLru with the history's ids: a hit
 * is the answer a search gave for the same inputs (and a fresh search gives it again: the engines
 * are deterministic per query, save that the Hamming tables step aside for the exact scan while
 * most recent queries overrun their budget), and a new event changes the history, so it misses
 * without any invalidation message. Answers that depend on anything else (the trending fallback,
 * which changes with everybody's events) are not kept; the plain popularity fallback is kept once
 * for all users without signal.
 *
 * The recommender keeps answers in the form its caller chose (src/recommend/answer-form.ts): the
 * service keeps each as its response JSON. One cache per recommender, so a model swap starts empty.
 */
import type { RecommendOptions } from './types.js'

/**
 * The cache key of a request: kind ('u' user, 'i' similar items, 'p' the popularity fallback of any
 * user without signal), id and every option that changes the answer. Ids are length-prefixed, so
 * no id can end where another begins.
 */
export function resultKey (kind: 'u' | 'i' | 'p', id: string, opts: RecommendOptions, excludeSeen: boolean): string {
  let key = `${kind}${opts.k}|${opts.method}|${opts.ef ?? ''}|${opts.beam ?? ''}|${excludeSeen ? 1 : 0}|${id.length}:${id}`
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
