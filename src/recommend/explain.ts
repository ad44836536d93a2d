/**
 * Why an item was recommended (`explain=true`): the item among the query's own (a user's training
 * items and recent history, a session's items, the item of a similar-items request) whose vector
 * is closest to it by cosine. A user with thousands of items would cost thousands of comparisons
 * per answer item, so only the first EXPLAIN_MAX_ITEMS of the basis are compared (callers list a
 * user's recent history first).
 */
import type { ItemVectors } from './item-similarity.js'
import { itemCosine } from './item-similarity.js'

export const EXPLAIN_MAX_ITEMS = 1000

/** For each of `answer`, the row of `basis[0, count)` closest to it; -1 when the basis is empty. */
export function closestBasisRows (items: ItemVectors, answer: ArrayLike<number>, basis: ArrayLike<number>, count: number): Int32Array {
  const n = Math.min(count, EXPLAIN_MAX_ITEMS)
  const out = new Int32Array(answer.length).fill(-1)
  for (let i = 0; i < answer.length; i++) {
    let best = -Infinity
    for (let j = 0; j < n; j++) {
      const s = itemCosine(items, answer[i], basis[j])
      if (s > best) { best = s; out[i] = basis[j] }
    }
  }
  return out
}
