/**
 * The two-stage hybrid: Hamming top-C candidates (cheap: exact multi-index lookups over 64-bit
 * codes) re-ranked by the exact inner product of the float vectors, as in the DCH paper's
 * "hashing for candidate generation, embeddings for ranking" serving recipe.
 */
import { itemScore, type MipsItems } from './mips/brute-force.js'
import { TopKHeap } from './top-k.js'
import type { TopK } from './types.js'

export const DEFAULT_HYBRID_CANDIDATES = 200
export const MAX_HYBRID_CANDIDATES = 10_000

/** Re-ranks `candidates` (Hamming rows, already free of exclusions) by exact score; returns the best k. */
export function rerankByInnerProduct (items: MipsItems, candidates: TopK, query: Float32Array, k: number, heap: TopKHeap): TopK {
  heap.reset(Math.min(k, candidates.rows.length))
  const rows = candidates.rows
  for (let i = 0; i < rows.length; i++) heap.push(rows[i], itemScore(items, rows[i], query))
  return heap.drain(candidates.candidatesExamined + rows.length)
}

export function createHybridReranker (items: MipsItems): (candidates: TopK, query: Float32Array, k: number) => TopK {
  let heap = new TopKHeap(64)
  return (candidates, query, k) => {
    if (heap.capacity < k) heap = new TopKHeap(k)
    return rerankByInnerProduct(items, candidates, query, k, heap)
  }
}
