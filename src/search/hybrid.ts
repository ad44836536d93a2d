/**
 * The two-stage hybrid: Hamming top-C candidates (cheap: exact multi-index lookups over 64-bit
 * codes) re-ranked by the exact inner product of the float vectors, as in the DCH paper's
 * "hashing for candidate generation, embeddings for ranking" serving recipe.
 */
import { scoreRows, type MipsItems } from './mips/brute-force.js'
import { createInt8Prefilter } from './mips/int8-prefilter.js'
import { TopKHeap } from './top-k.js'
import type { TopK } from './types.js'
import { DEFAULT_HYBRID_CANDIDATES } from '../defaults.js'

export const MAX_HYBRID_CANDIDATES = 10_000

/**
 * Re-ranks `candidates` (Hamming rows, already free of exclusions) by exact score; returns the best
 * k. `scores` is scratch of at least candidates.rows.length.
 */
export function rerankByInnerProduct (items: MipsItems, candidates: TopK, query: Float32Array, k: number, heap: TopKHeap, scores: Float64Array): TopK {
  const rows = candidates.rows
  heap.reset(Math.min(k, rows.length))
  scoreRows(items, rows, rows.length, query, scores)
  for (let i = 0; i < rows.length; i++) heap.push(rows[i], scores[i])
  return heap.drain(candidates.candidatesExamined + rows.length)
}

/**
 * The re-rank for a catalog: through the int8 prefilter (same results, a quarter of the bytes read)
 * when WebAssembly SIMD is there and `prefilter` is not false, else every candidate scored exactly.
 */
export interface HybridReranker {
  (candidates: TopK, query: Float32Array, k: number): TopK
  /** Whether the int8 prefilter is in use (once ready), and the bytes it holds. */
  readonly prefilter: boolean
  readonly prefilterReady: boolean
  readonly memoryBytes: number
  /** Resolves when the prefilter is built (at once without one). */
  readonly whenReady: Promise<void>
}

export function createHybridReranker (items: MipsItems, prefilter = true, sliceRows?: number): HybridReranker {
  let heap = new TopKHeap(64)
  let scores = new Float64Array(DEFAULT_HYBRID_CANDIDATES)
  const int8 = prefilter ? createInt8Prefilter(items, MAX_HYBRID_CANDIDATES, undefined, sliceRows) : null
  const kept = int8 ? new Int32Array(MAX_HYBRID_CANDIDATES) : null
  const keptScores = int8 ? new Float64Array(MAX_HYBRID_CANDIDATES) : null
  const rerank = (candidates: TopK, query: Float32Array, k: number): TopK => {
    if (heap.capacity < k) heap = new TopKHeap(k)
    const count = candidates.rows.length
    if (int8 !== null && int8.ready && count <= MAX_HYBRID_CANDIDATES) {
      const n = int8.filter(candidates.rows, count, query, k, kept!, keptScores!)
      heap.reset(Math.min(k, count))
      for (let i = 0; i < n; i++) heap.push(kept![i], keptScores![i])
      return heap.drain(candidates.candidatesExamined + count)
    }
    if (scores.length < candidates.rows.length) scores = new Float64Array(candidates.rows.length)
    return rerankByInnerProduct(items, candidates, query, k, heap, scores)
  }
  return Object.defineProperties(rerank, {
    prefilter: { value: int8 !== null },
    prefilterReady: { get: () => int8?.ready ?? false },
    memoryBytes: { value: (int8?.memoryBytes ?? 0) + (kept?.byteLength ?? 0) + (keptScores?.byteLength ?? 0) },
    whenReady: { value: int8?.whenReady ?? Promise.resolve() },
  }) as HybridReranker
}
