/**
 * A query's answer by search: the method the query can be served by, the engines' ranking under
 * the request's filters, the final page (listing.ts), and its items.
 */
import type { Model } from '../model-loader/model.js'
import type { ExcludeSet, SearchMethod, TopK } from '../search/types.js'
import { NO_BASIS, type Basis, type Listing } from './listing.js'
import type { Query } from './query.js'
import type { RecommendationResult, RecommendOptions, RecommenderEngines } from './types.js'

/** The method a query can be served by, and why it differs from the requested one. */
function servedMethod (engines: RecommenderEngines, q: Query, requested: SearchMethod): { method: SearchMethod, note?: string } {
  if (requested !== 'hamming' && !q.hasVector) return { method: 'hamming', note: 'no vector for this query (a code only): served by hamming' }
  if (requested === 'dr' && engines.dr == null) {
    return q.hasCode
      ? { method: 'hybrid', note: 'the model has no Deep Retrieval structure: served by hybrid' }
      : { method: 'mips', note: 'the model has no Deep Retrieval structure (nor a code for this query): served by mips' }
  }
  // Deep Retrieval routes the vector alone; a code only serves its fallback.
  if (requested !== 'mips' && requested !== 'dr' && !q.hasCode) return { method: 'mips', note: 'no binary code for this query (the model has no user_code_projection): served by mips' }
  return { method: requested }
}

/**
 * Searches `q` by the requested method, or by the one it supports: a query without a code (no
 * user_code_projection in the bundle) is served by mips, a code without a vector by hamming, dr on
 * a model without a structure by hybrid; a Deep Retrieval search whose widest beam still held fewer
 * than k eligible items is served by hybrid (mips without a code). The answer says why (`methodNote`).
 */
export function searchAnswer (model: Model, engines: RecommenderEngines, q: Query, opts: RecommendOptions, exclude: ExcludeSet, listing: Listing, basis: Basis = NO_BASIS): RecommendationResult {
  let { method, note } = servedMethod(engines, q, opts.method)
  const search = listing.searchOptions(opts, exclude)
  let top: TopK
  if (method === 'dr') {
    const dr = engines.dr!(q.hasCode ? q.code : null, q.vector, search)
    if (dr.fallback !== null) {
      method = dr.fallback
      note = `the Deep Retrieval beam held fewer than ${search.k} eligible items even widened to ${dr.beam}: served by ${dr.fallback}`
    }
    top = dr
  } else {
    top = method === 'hamming'
      ? engines.hamming(q.code, search)
      : method === 'mips' ? engines.mips(q.vector, search) : engines.hybrid(q.code, q.vector, search)
  }
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
