/**
 * Exact top-k by inner product over the whole catalog, minus a user's training items, for the
 * trainer's many full scans (teacher pairs, the exhaustive side of the evaluation). Every item is
 * first scored from the int8 copy (src/search/mips/int8-prefilter.ts: WebAssembly SIMD, a rigorous
 * error bound), and only the items that can reach the (k + excluded)-th best are scored exactly by
 * the float code every engine shares, so the answer is bit for bit exactMipsTopK's. Without
 * WebAssembly SIMD it is exactMipsTopK.
 */
import { exactMipsTopK, type MipsItems } from '../../search/mips/brute-force.js'
import { createInt8Prefilter } from '../../search/mips/int8-prefilter.js'
import { TopKHeap } from '../../search/top-k.js'
import type { ExcludeSet } from '../../search/types.js'
import type { Csr } from '../csr.js'

export interface FullScan {
  /** The k best items for the query that are not in row `user` of the exclusion matrix, best first (ties: lower row), into `out`; returns how many. */
  topK (query: Float32Array, k: number, user: number, out: Int32Array): number
}

/** A CSR row (sorted) as an exclusion set. */
export function csrRowExclusion (m: Csr): ExcludeSet & { user: number } {
  const set = {
    user: 0,
    get size () { return m.indptr[set.user + 1] - m.indptr[set.user] },
    has (row: number): boolean {
      let lo = m.indptr[set.user]
      let hi = m.indptr[set.user + 1] - 1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        const x = m.indices[mid]
        if (x === row) return true
        if (x < row) lo = mid + 1
        else hi = mid - 1
      }
      return false
    },
  }
  return set
}

export function createFullScan (items: MipsItems, exclusions: Csr): FullScan {
  const n = items.itemCount
  const exclude = csrRowExclusion(exclusions)
  const heap = new TopKHeap(64)
  // Built in one piece (no slices): the trainer waits for it anyway.
  const int8 = n > 0 ? createInt8Prefilter(items, n, undefined, Math.max(1, n)) : null
  if (int8 === null) {
    return {
      topK (query, k, user, out) {
        exclude.user = user
        const top = exactMipsTopK(items, query, k, exclude, k <= heap.capacity ? heap : new TopKHeap(k))
        out.set(top.rows)
        return top.rows.length
      },
    }
  }
  const all = Int32Array.from({ length: n }, (_, i) => i)
  const rows = new Int32Array(n)
  const scores = new Float64Array(n)
  let best = new TopKHeap(64)
  const keepScores = new Float64Array(64)
  return {
    topK (query, k, user, out) {
      exclude.user = user
      // An excluded item can take one of the first k places: ask for k more per excluded item.
      const wanted = Math.min(n, k + exclude.size)
      const m = int8.filter(all, n, query, wanted, rows, scores)
      if (best.capacity < k) best = new TopKHeap(k)
      best.reset(Math.min(k, n))
      for (let i = 0; i < m; i++) if (!exclude.has(rows[i])) best.push(rows[i], scores[i])
      return best.drainInto(out, k <= keepScores.length ? keepScores : new Float64Array(k))
    },
  }
}
