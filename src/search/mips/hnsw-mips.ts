/**
 * MIPS through the hnswlib-node HNSW index held by the model. The graph proposes candidates; they
 * are re-scored exactly from the item vectors, so scores and the tie rule are the same as the exact
 * engine's whatever the index space ('ip' or the l2-mips reduction) or its float rounding.
 *
 * Exclusions: hnswlib-node's filter argument calls back into JavaScript for every candidate the
 * search considers, so we over-fetch k + |exclude| labels instead and widen the fetch if
 * exclusions still eat into the k; when the exclusions are a large share of the catalog the exact
 * scan is cheaper.
 *
 * Filters (a share s of the catalog eligible) widen the breadth the same way: the graph is asked
 * for WIDEN (k + |exclude|) / s labels, of which about WIDEN (k + |exclude|) are eligible. On the
 * synthetic 1M catalog (s = 0.1, k = 10; 200 queries compared in one process, a loaded machine)
 * that cost 227 µs at recall@10 0.724 against the filtered exact top 10, where the filter callback
 * at ef 64 cost 738 µs (1,164 callbacks a query) for 0.747; unfiltered was 117 µs. bench:filters
 * times the whole filtered search against unfiltered.
 * When the widened breadth would cost more than scoring the eligible rows exactly (rare tags), the
 * eligible rows are scored instead; a widened search that still comes back short (the eligible rows
 * far from the query) asks the callback, then the exact scan, so k eligible rows come back whenever
 * they exist.
 */
import { augmentQuery } from '../../model-loader/hnsw-index.js'
import type { HnswHandle } from '../../model-loader/model.js'
import type { RowFilter } from '../row-filter.js'
import { TopKHeap } from '../top-k.js'
import type { ExcludeSet, TopK } from '../types.js'
import { exactMipsRows, exactMipsTopK, itemScore, type MipsItems } from './brute-force.js'

export const EF_MAX = 4096
/** Fetches beyond this share of the catalog go to the exact scan instead. */
const EXACT_SHARE = 0.1
/** A filtered search fetches this many times the eligible rows it needs, in expectation. */
export const WIDEN = 2
/**
 * Eligible rows scored exactly per unit of HNSW breadth at the same cost: on the synthetic 1M
 * catalog one more ef cost ~0.9 µs (ef 64: 117 µs, ef 200: 227 µs) and an exact score of a row
 * at a random address ~40 ns.
 */
const ROWS_PER_EF = 20

export interface HnswMips {
  search (query: Float32Array, k: number, ef: number | undefined, exclude?: ExcludeSet, filter?: RowFilter, stable?: boolean): TopK
  readonly defaultEf: number
}

export function createHnswMips (items: MipsItems, hnsw: HnswHandle, defaultEf: number): HnswMips {
  const point = new Array<number>(hnsw.indexDimension).fill(0)
  const hasBias = items.itemBias !== null
  const indexed = hnsw.index.getCurrentCount()
  let heap = new TopKHeap(64)
  let rowScores = new Float64Array(0)
  let currentEf = -1
  const ensureHeap = (k: number): TopKHeap => {
    if (heap.capacity < k) heap = new TopKHeap(k)
    return heap
  }

  return {
    defaultEf,
    search (query: Float32Array, k: number, ef: number | undefined, exclude?: ExcludeSet, filter?: RowFilter, stable = false): TopK {
      const count = items.itemCount
      const kk = Math.min(k, count)
      const h = ensureHeap(Math.max(1, kk))
      if (kk <= 0 || filter?.count === 0) { h.reset(0); return h.drain(0) }
      if (stable) return stableSearch(query, kk, ef, exclude, filter)
      const excluded = exclude?.size ?? 0
      const share = filter === undefined ? 1 : filter.count / count
      let fetch = Math.min(indexed, Math.ceil((filter === undefined ? 1 : WIDEN / share) * (kk + excluded)))
      if (filter !== undefined) {
        if (filter.count < ROWS_PER_EF * fetch) return exactRows(query, kk, exclude, filter)
        if (fetch > EF_MAX) return callback(query, kk, ef, exclude, filter, 0)
      } else if (fetch > count * EXACT_SHARE && fetch > 64) {
        return exactMipsTopK(items, query, kk, exclude, h)
      }
      augmentQuery(query, items.dimension, hasBias, hnsw.space, point)
      let examined = 0
      for (;;) {
        setEf(Math.min(EF_MAX, Math.max(fetch, ef ?? defaultEf)))
        const { neighbors } = hnsw.index.searchKnn(point, fetch)
        h.reset(kk)
        for (let i = 0; i < neighbors.length; i++) {
          const row = neighbors[i]
          if (exclude !== undefined && exclude.has(row)) continue
          if (filter !== undefined && !filter.has(row)) continue
          h.push(row, itemScore(items, row, query))
        }
        examined += neighbors.length
        if (h.length >= kk || fetch >= indexed) return h.drain(examined)
        // A filtered search that came back short: the eligible rows lie away from the query's
        // neighbourhood, where a wider fetch pays for ineligible ones; the callback keeps only eligible ones.
        if (filter !== undefined) return callback(query, kk, ef, exclude, filter, examined)
        fetch = Math.min(indexed, fetch * 2)
        if (fetch > count * EXACT_SHARE && fetch > 64) return exactMipsTopK(items, query, kk, exclude, h)
      }
    },
  }

  /**
   * Every k up to the breadth B = max(ef, k) gets a prefix of one ranking: the graph is asked for
   * B eligible labels at ef B whatever k is (the callback keeps the eligible ones), re-scored
   * exactly; whether the exact scan replaces it (a small filter, a graph that found fewer than B
   * of the eligible rows) depends on B and the filter alone, never on k.
   */
  function stableSearch (query: Float32Array, kk: number, ef: number | undefined, exclude: ExcludeSet | undefined, filter: RowFilter | undefined): TopK {
    const breadth = Math.min(EF_MAX, indexed, Math.max(kk, ef ?? defaultEf))
    if (filter !== undefined && filter.count < ROWS_PER_EF * breadth) return exactRows(query, kk, exclude, filter)
    augmentQuery(query, items.dimension, hasBias, hnsw.space, point)
    setEf(breadth)
    const eligible = filter === undefined
      ? (exclude === undefined || exclude.size === 0 ? undefined : (label: number) => !exclude.has(label))
      : exclude === undefined ? (label: number) => filter.has(label) : (label: number) => filter.has(label) && !exclude.has(label)
    const { neighbors } = eligible === undefined ? hnsw.index.searchKnn(point, breadth) : hnsw.index.searchKnn(point, breadth, eligible)
    // At least this many eligible rows exist (the exclusions may hold ineligible ones).
    const atLeast = (filter?.count ?? items.itemCount) - (exclude?.size ?? 0)
    if (neighbors.length < Math.min(breadth, atLeast)) {
      const h = ensureHeap(kk)
      return filter === undefined ? exactMipsTopK(items, query, kk, exclude, h) : exactRows(query, kk, exclude, filter)
    }
    const h = ensureHeap(kk)
    h.reset(kk)
    for (let i = 0; i < neighbors.length; i++) h.push(neighbors[i], itemScore(items, neighbors[i], query))
    return h.drain(neighbors.length)
  }

  function setEf (want: number): void {
    if (want !== currentEf) { hnsw.index.setEf(want); currentEf = want }
  }

  /** hnswlib's filtered search (a JavaScript call per candidate), then the exact scan if it is still short. */
  function callback (query: Float32Array, kk: number, ef: number | undefined, exclude: ExcludeSet | undefined, filter: RowFilter, examined: number): TopK {
    augmentQuery(query, items.dimension, hasBias, hnsw.space, point)
    setEf(Math.min(EF_MAX, Math.max(kk, ef ?? defaultEf)))
    const eligible = exclude === undefined ? (label: number) => filter.has(label) : (label: number) => filter.has(label) && !exclude.has(label)
    const { neighbors } = hnsw.index.searchKnn(point, kk, eligible)
    const h = ensureHeap(kk)
    h.reset(kk)
    for (let i = 0; i < neighbors.length; i++) h.push(neighbors[i], itemScore(items, neighbors[i], query))
    if (h.length >= kk) return h.drain(examined + neighbors.length)
    return exactRows(query, kk, exclude, filter)
  }

  function exactRows (query: Float32Array, kk: number, exclude: ExcludeSet | undefined, filter: RowFilter): TopK {
    if (rowScores.length < filter.count) rowScores = new Float64Array(filter.count)
    return exactMipsRows(items, query, filter.rows, filter.count, kk, exclude, ensureHeap(kk), rowScores)
  }
}
