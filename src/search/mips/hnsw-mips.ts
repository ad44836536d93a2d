/**
 * MIPS through the hnswlib-node HNSW index held by the model. The graph proposes candidates; they
 * are re-scored exactly from the item vectors, so scores and the tie rule are the same as the exact
 * engine's whatever the index space ('ip' or the l2-mips reduction) or its float rounding.
 *
 * Exclusions: hnswlib-node's filter argument calls back into JavaScript for every visited node, so
 * we over-fetch k + |exclude| labels instead and widen the fetch if exclusions still eat into the
 * k; when the exclusions are a large share of the catalog the exact scan is cheaper.
 */
import { augmentQuery } from '../../model-loader/hnsw-index.js'
import type { HnswHandle } from '../../model-loader/model.js'
import { TopKHeap } from '../top-k.js'
import type { ExcludeSet, TopK } from '../types.js'
import { exactMipsTopK, itemScore, type MipsItems } from './brute-force.js'

export const EF_MAX = 4096
/** Fetches beyond this share of the catalog go to the exact scan instead. */
const EXACT_SHARE = 0.1

export interface HnswMips {
  search (query: Float32Array, k: number, ef: number | undefined, exclude?: ExcludeSet): TopK
  readonly defaultEf: number
}

export function createHnswMips (items: MipsItems, hnsw: HnswHandle, defaultEf: number): HnswMips {
  const point = new Array<number>(hnsw.indexDimension).fill(0)
  const hasBias = items.itemBias !== null
  const indexed = hnsw.index.getCurrentCount()
  let heap = new TopKHeap(64)
  let currentEf = -1
  const ensureHeap = (k: number): TopKHeap => {
    if (heap.capacity < k) heap = new TopKHeap(k)
    return heap
  }

  return {
    defaultEf,
    search (query: Float32Array, k: number, ef: number | undefined, exclude?: ExcludeSet): TopK {
      const count = items.itemCount
      const kk = Math.min(k, count)
      const h = ensureHeap(Math.max(1, kk))
      if (kk <= 0) { h.reset(0); return h.drain(0) }
      const excluded = exclude?.size ?? 0
      let fetch = Math.min(indexed, kk + excluded)
      if (fetch > count * EXACT_SHARE && fetch > 64) return exactMipsTopK(items, query, kk, exclude, h)
      augmentQuery(query, items.dimension, hasBias, hnsw.space, point)
      let examined = 0
      for (;;) {
        const wantEf = Math.min(EF_MAX, Math.max(fetch, ef ?? defaultEf))
        if (wantEf !== currentEf) { hnsw.index.setEf(wantEf); currentEf = wantEf }
        const { neighbors } = hnsw.index.searchKnn(point, fetch)
        h.reset(kk)
        for (let i = 0; i < neighbors.length; i++) {
          const row = neighbors[i]
          if (exclude !== undefined && exclude.has(row)) continue
          h.push(row, itemScore(items, row, query))
        }
        examined += neighbors.length
        if (h.length >= kk || fetch >= indexed) return h.drain(examined)
        fetch = Math.min(indexed, fetch * 2)
        if (fetch > count * EXACT_SHARE && fetch > 64) return exactMipsTopK(items, query, kk, exclude, h)
      }
    },
  }
}
