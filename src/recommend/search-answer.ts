/**
 * A query's answer by search: the method the query can be served by, the engines' ranking, and
 * the ranked rows shaped into items (external ids, scores, ranks, titles).
 */
import type { Model } from '../model-loader/model.js'
import type { ExcludeSet, SearchMethod, SearchOptions, TopK } from '../search/types.js'
import type { Query } from './query.js'
import type { RecommendationResult, RecommendedItem, RecommendOptions, RecommenderEngines } from './types.js'

/** The item of `row` at `rank` (1-based), with its title when the bundle has one (decoded once, cached by the model). */
export function itemAt (model: Model, row: number, score: number, rank: number): RecommendedItem {
  const title = model.itemMeta.title(row)
  return title === undefined ? { id: model.items.idAt(row), score, rank } : { id: model.items.idAt(row), score, rank, title }
}

function shape (model: Model, top: TopK): RecommendedItem[] {
  const out: RecommendedItem[] = new Array(top.rows.length)
  for (let i = 0; i < top.rows.length; i++) out[i] = itemAt(model, top.rows[i], top.scores[i], i + 1)
  return out
}

/**
 * Searches `q` by the requested method, or by the one it supports: a query without a code (no
 * user_code_projection in the bundle) is served by mips, a code without a vector by hamming, and
 * the answer says why (`methodNote`).
 */
export function searchAnswer (model: Model, engines: RecommenderEngines, q: Query, opts: RecommendOptions, exclude: ExcludeSet, candidates: number): RecommendationResult {
  let method: SearchMethod = opts.method
  let note: string | undefined
  if (method !== 'mips' && !q.hasCode) {
    method = 'mips'
    note = 'no binary code for this query (the model has no user_code_projection): served by mips'
  } else if (method !== 'hamming' && !q.hasVector) {
    method = 'hamming'
    note = 'no vector for this query (a code only): served by hamming'
  }
  const search: SearchOptions = { k: opts.k, exclude, ef: opts.ef, candidates }
  const top = method === 'hamming'
    ? engines.hamming(q.code, search)
    : method === 'mips' ? engines.mips(q.vector, search) : engines.hybrid(q.code, q.vector, search)
  const result: RecommendationResult = {
    modelVersion: model.version,
    method,
    requestedMethod: opts.method,
    source: q.source,
    candidatesExamined: top.candidatesExamined,
    items: shape(model, top),
  }
  if (note !== undefined) result.methodNote = note
  return result
}
