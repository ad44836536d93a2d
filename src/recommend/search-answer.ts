/**
 * A query's answer by search: the method the query can be served by, the engines' ranking under
 * the request's filters, the final page (listing.ts), and its items.
 */
import type { Model } from '../model-loader/model.js'
import type { ExcludeSet, SearchMethod } from '../search/types.js'
import { NO_BASIS, type Basis, type Listing } from './listing.js'
import type { Query } from './query.js'
import type { RecommendationResult, RecommendOptions, RecommenderEngines } from './types.js'

/**
 * Searches `q` by the requested method, or by the one it supports: a query without a code (no
 * user_code_projection in the bundle) is served by mips, a code without a vector by hamming, and
 * the answer says why (`methodNote`).
 */
export function searchAnswer (model: Model, engines: RecommenderEngines, q: Query, opts: RecommendOptions, exclude: ExcludeSet, listing: Listing, basis: Basis = NO_BASIS): RecommendationResult {
  let method: SearchMethod = opts.method
  let note: string | undefined
  if (method !== 'mips' && !q.hasCode) {
    method = 'mips'
    note = 'no binary code for this query (the model has no user_code_projection): served by mips'
  } else if (method !== 'hamming' && !q.hasVector) {
    method = 'hamming'
    note = 'no vector for this query (a code only): served by hamming'
  }
  const search = listing.searchOptions(opts, exclude)
  const top = method === 'hamming'
    ? engines.hamming(q.code, search)
    : method === 'mips' ? engines.mips(q.vector, search) : engines.hybrid(q.code, q.vector, search)
  const page = listing.page(top, opts)
  const result: RecommendationResult = {
    modelVersion: model.version,
    method,
    requestedMethod: opts.method,
    source: q.source,
    candidatesExamined: top.candidatesExamined,
    items: listing.items(page, opts, basis),
  }
  if (note !== undefined) result.methodNote = note
  return listing.measure(result, page.rows, opts)
}
