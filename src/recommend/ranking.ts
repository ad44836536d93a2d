/**
 * From the engines' ranked candidates to the page a request asked for: catalog boosts added to the
 * scores, diversity (MMR, diversity.ts), then the slice [offset, offset + k). Plain functions of
 * their inputs: the same search and options give the same page.
 *
 * Pages of one ranking: a request with `offset` is "paged": its search is stable (the engines'
 * candidates do not depend on the depth asked, search/types.ts) and as deep as the deepest page
 * may be (MAX_PAGED_DEPTH), and boosts and diversity work over a pool of that fixed size, so the
 * pages at offsets 0, k, 2k, ... are slices of one list and never repeat an item.
 */
import type { TopK } from '../search/types.js'
import { mmrOrder, MAX_DIVERSITY_POOL } from './diversity.js'
import type { ItemVectors } from './item-similarity.js'

/** Deepest position a paged request may reach (offset + k). */
export const MAX_PAGED_DEPTH = 200
/** A boosted or diversified answer re-ranks at least this many candidates, and POOL_FACTOR times its depth. */
export const POOL_MIN = 50
export const POOL_FACTOR = 3

export interface RankingOptions {
  readonly k: number
  /** Present when the request pages (see above). */
  readonly offset?: number
  /** MMR trade-off in [0, 1]; 0 keeps the engines' order. */
  readonly diversity?: number
}

/** How many ranked candidates the engines must return for these options. */
export function searchDepth (opts: RankingOptions, boosted: boolean): number {
  const depth = (opts.offset ?? 0) + opts.k
  const reranked = boosted || (opts.diversity ?? 0) > 0
  if (opts.offset !== undefined) return reranked ? Math.max(MAX_PAGED_DEPTH, depth) : depth
  if (!reranked) return depth
  return Math.min(MAX_DIVERSITY_POOL, Math.max(depth, POOL_MIN, POOL_FACTOR * depth))
}

/**
 * The requested page of the final ranking of `top` (best first): `boostOf(row)` added to each
 * score and re-sorted (ties: lower row), MMR when diversity > 0, then [offset, offset + k).
 * Returns `top` itself when nothing changes it.
 */
export function rankPage (items: ItemVectors, top: TopK, opts: RankingOptions, boostOf?: (row: number) => number): TopK {
  const offset = opts.offset ?? 0
  const lambda = opts.diversity ?? 0
  let rows = top.rows
  let scores = top.scores
  if (boostOf !== undefined) {
    const n = rows.length
    const boosted = new Float64Array(n)
    const order = new Int32Array(n)
    for (let i = 0; i < n; i++) { boosted[i] = scores[i] + boostOf(rows[i]); order[i] = i }
    order.sort((a, b) => boosted[b] - boosted[a] || rows[a] - rows[b])
    const r = new Int32Array(n)
    const s = new Float32Array(n)
    for (let i = 0; i < n; i++) { r[i] = rows[order[i]]; s[i] = boosted[order[i]] }
    rows = r
    scores = s
  }
  if (lambda > 0) {
    const order = mmrOrder(items, rows, scores, offset + opts.k, lambda)
    const r = new Int32Array(order.length)
    const s = new Float32Array(order.length)
    for (let i = 0; i < order.length; i++) { r[i] = rows[order[i]]; s[i] = scores[order[i]] }
    rows = r
    scores = s
  }
  if (rows === top.rows && offset === 0 && rows.length <= opts.k) return top
  const end = Math.min(rows.length, offset + opts.k)
  const from = Math.min(offset, end)
  return { rows: rows.slice(from, end), scores: scores.slice(from, end), candidatesExamined: top.candidatesExamined }
}
