/**
 * Exact maximum inner product search by a full pass over the item vectors: the oracle for HNSW and
 * the engine for small catalogs, where it beats the graph's per-query overhead.
 */
import type { RowFilter } from '../row-filter.js'
import { TopKHeap } from '../top-k.js'
import type { ExcludeSet, TopK } from '../types.js'

export interface MipsItems {
  readonly itemVectors: Float32Array
  readonly itemBias: Float32Array | null
  readonly dimension: number
  readonly itemCount: number
}

/**
 * v[base .. base + dimension) . q with four accumulators: V8 does not reassociate float adds, so
 * one chain would serialise on add latency. Every scorer below sums through here, in this order,
 * so every method reports bit-identical scores for the same item. Small enough for V8 to inline.
 */
export function dotAt (v: Float32Array, base: number, q: Float32Array, dimension: number): number {
  const tail = dimension & ~3
  let s0 = 0; let s1 = 0; let s2 = 0; let s3 = 0
  let j = 0
  for (; j < tail; j += 4) {
    s0 += v[base + j] * q[j]
    s1 += v[base + j + 1] * q[j + 1]
    s2 += v[base + j + 2] * q[j + 2]
    s3 += v[base + j + 3] * q[j + 3]
  }
  for (; j < dimension; j++) s0 += v[base + j] * q[j]
  return (s0 + s1) + (s2 + s3)
}

/** u . v_row (+ bias[row]) */
export function itemScore (items: MipsItems, row: number, query: Float32Array): number {
  const s = dotAt(items.itemVectors, row * items.dimension, query, items.dimension)
  return items.itemBias ? s + items.itemBias[row] : s
}

/** Candidates whose vector lines are requested together before any is scored (see scoreRows). */
const SCORE_BATCH = 8

/**
 * out[i] = u . v_rows[i] (+ bias) for from <= i < count. On a large catalog the candidates' vectors are
 * cache misses at random addresses, one after another when each dot product waits for its own
 * loads. Touching every 64-byte line of a batch of candidates first lets the CPU have those misses
 * in flight at once: 200 candidates on a 1M x 64 catalog went from ~85-97 µs to ~55-60 µs
 * (bench:hybrid's machine).
 */
export function scoreRows (items: MipsItems, rows: Int32Array, count: number, query: Float32Array, out: Float64Array, from = 0): void {
  const { itemVectors, itemBias, dimension } = items
  for (let i = from; i < count; i += SCORE_BATCH) {
    const end = Math.min(count, i + SCORE_BATCH)
    let touch = 0
    for (let b = i; b < end; b++) {
      const base = rows[b] * dimension
      // 16 floats = one 64-byte line (rows are 64-byte aligned when dimension is a multiple of 16).
      for (let j = 0; j < dimension; j += 16) touch += itemVectors[base + j]
    }
    // Keeps the loads alive: a NaN here is harmless (out is written below), but the JIT cannot drop them.
    out[i] = touch
    for (let b = i; b < end; b++) {
      const s = dotAt(itemVectors, rows[b] * dimension, query, dimension)
      out[b] = itemBias ? s + itemBias[rows[b]] : s
    }
  }
}

/**
 * Exact top-K by inner product among the rows `filter` passes (every row without one); `heap`
 * (capacity >= k) is reused scratch. Ties: lower row first.
 */
export function exactMipsTopK (items: MipsItems, query: Float32Array, k: number, exclude: ExcludeSet | undefined, heap: TopKHeap = new TopKHeap(k), filter?: RowFilter): TopK {
  const { itemVectors, itemBias, dimension, itemCount } = items
  const kk = Math.min(k, itemCount)
  heap.reset(kk)
  if (kk === 0) return heap.drain(0)
  for (let row = 0, base = 0; row < itemCount; row++, base += dimension) {
    let s = dotAt(itemVectors, base, query, dimension)
    if (itemBias) s += itemBias[row]
    if (s < heap.threshold) continue
    if (exclude !== undefined && exclude.has(row)) continue
    if (filter !== undefined && !filter.has(row)) continue
    heap.push(row, s)
  }
  return heap.drain(itemCount)
}

/**
 * Exact top-K by inner product over `rows[0, count)` alone (a small filter's rows): the cost is
 * the filter's size, not the catalog's. `scores` is scratch of at least `count`.
 */
export function exactMipsRows (items: MipsItems, query: Float32Array, rows: Int32Array, count: number, k: number, exclude: ExcludeSet | undefined, heap: TopKHeap, scores: Float64Array): TopK {
  heap.reset(Math.min(k, count))
  scoreRows(items, rows, count, query, scores)
  for (let i = 0; i < count; i++) {
    if (exclude !== undefined && exclude.has(rows[i])) continue
    heap.push(rows[i], scores[i])
  }
  return heap.drain(count)
}
