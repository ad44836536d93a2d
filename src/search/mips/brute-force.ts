/**
 * Exact maximum inner product search by a full pass over the item vectors: the oracle for HNSW and
 * the engine for small catalogs, where it beats the graph's per-query overhead.
 */
import { TopKHeap } from '../top-k.js'
import type { ExcludeSet, TopK } from '../types.js'

export interface MipsItems {
  readonly itemVectors: Float32Array
  readonly itemBias: Float32Array | null
  readonly dimension: number
  readonly itemCount: number
}

/** u . v_row (+ bias[row]) */
export function itemScore (items: MipsItems, row: number, query: Float32Array): number {
  const { itemVectors, dimension } = items
  const base = row * dimension
  let s = 0
  for (let j = 0; j < dimension; j++) s += itemVectors[base + j] * query[j]
  return items.itemBias ? s + items.itemBias[row] : s
}

/** Exact top-K by inner product; `heap` (capacity >= k) is reused scratch. Ties: lower row first. */
export function exactMipsTopK (items: MipsItems, query: Float32Array, k: number, exclude: ExcludeSet | undefined, heap: TopKHeap = new TopKHeap(k)): TopK {
  const { itemVectors, itemBias, dimension, itemCount } = items
  const kk = Math.min(k, itemCount)
  heap.reset(kk)
  if (kk === 0) return heap.drain(0)
  const tail = dimension & ~3
  for (let row = 0, base = 0; row < itemCount; row++, base += dimension) {
    // Four accumulators: V8 does not reassociate float adds, so one chain would serialise on add latency.
    let s0 = 0; let s1 = 0; let s2 = 0; let s3 = 0
    let j = 0
    for (; j < tail; j += 4) {
      s0 += itemVectors[base + j] * query[j]
      s1 += itemVectors[base + j + 1] * query[j + 1]
      s2 += itemVectors[base + j + 2] * query[j + 2]
      s3 += itemVectors[base + j + 3] * query[j + 3]
    }
    for (; j < dimension; j++) s0 += itemVectors[base + j] * query[j]
    let s = (s0 + s1) + (s2 + s3)
    if (itemBias) s += itemBias[row]
    if (s < heap.threshold) continue
    if (exclude !== undefined && exclude.has(row)) continue
    heap.push(row, s)
  }
  return heap.drain(itemCount)
}
