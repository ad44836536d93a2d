/**
 * Maximal marginal relevance (Carbonell and Goldstein, "The use of MMR, diversity-based reranking
 * for reordering documents and producing summaries", SIGIR 1998): from a pool ranked by relevance,
 * pick one item at a time maximizing
 *
 *   (1 - lambda) rel(i) - lambda max_{j picked} cos(v_i, v_j)
 *
 * with rel the pool's scores scaled to [0, 1] (scores of different methods and models have
 * different ranges) and cos over item vectors. lambda = 0 is the pool's own order; ties go to the
 * item ranked higher in the pool, so the first pick is always the most relevant item.
 * O(pool x picked) similarities, each kept as the running max per candidate.
 */
import type { ItemVectors } from './item-similarity.js'
import { itemCosine } from './item-similarity.js'

/** Most items a pool may hold (the request schema bounds what asks for one). */
export const MAX_DIVERSITY_POOL = 1000

/**
 * Positions into `rows`/`scores` (the pool, best first) in MMR order, `take` of them (fewer when
 * the pool is smaller).
 */
export function mmrOrder (items: ItemVectors, rows: Int32Array, scores: ArrayLike<number>, take: number, lambda: number): Int32Array {
  const n = rows.length
  const count = Math.min(take, n)
  const order = new Int32Array(count)
  if (lambda <= 0 || n <= 1) {
    for (let i = 0; i < count; i++) order[i] = i
    return order
  }
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < n; i++) { lo = Math.min(lo, scores[i]); hi = Math.max(hi, scores[i]) }
  const span = hi - lo
  const rel = new Float64Array(n)
  for (let i = 0; i < n; i++) rel[i] = span > 0 ? (scores[i] - lo) / span : 1
  // Max similarity to the items picked so far (none yet: 0), and whether each is taken.
  const maxSim = new Float64Array(n)
  const taken = new Uint8Array(n)
  for (let p = 0; p < count; p++) {
    let best = -1
    let bestValue = -Infinity
    for (let i = 0; i < n; i++) {
      if (taken[i] === 1) continue
      const value = (1 - lambda) * rel[i] - lambda * maxSim[i]
      if (value > bestValue) { bestValue = value; best = i }
    }
    order[p] = best
    taken[best] = 1
    for (let i = 0; i < n; i++) {
      if (taken[i] === 1) continue
      const s = itemCosine(items, rows[i], rows[best])
      if (p === 0 || s > maxSim[i]) maxSim[i] = s
    }
  }
  return order
}
