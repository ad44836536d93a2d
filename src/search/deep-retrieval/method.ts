/**
 * The engines' `dr` method: Deep Retrieval over a model's structure (built once per model) with
 * the other methods as its fallback, and what the engines report about it.
 */
import { DR_LIMITS, type DeepRetrievalStructure } from '../../bundle-format/deep-retrieval.js'
import type { FilteredPaths } from '../filtered-paths.js'
import type { HybridReranker } from '../hybrid.js'
import type { MipsItems } from '../mips/brute-force.js'
import { EMPTY_TOP_K } from '../top-k.js'
import type { SearchOptions, SearchStats, TopK } from '../types.js'
import { createDeepRetrievalIndex, createDeepRetrievalSearch } from './engine.js'

/**
 * A Deep Retrieval answer: the beam search's when its paths held k eligible items (the beam
 * widened if needed), otherwise the hybrid's (or exact MIPS without a code) and `fallback` says so.
 */
export interface DrTopK extends TopK {
  readonly fallback: 'hybrid' | 'mips' | null
  /** The beam the search ended with. */
  readonly beam: number
}

export interface DeepRetrievalInfo {
  readonly depth: number
  readonly width: number
  readonly pathsPerItem: number
  /** Hidden units of each layer's map; 0 for linear layers. */
  readonly hidden: number
  readonly defaultBeam: number
  readonly maxBeam: number
  /** Non-empty paths, and the items on the most crowded one. */
  readonly paths: number
  readonly largestPath: number
  readonly memoryBytes: number
  readonly buildMs: number
}

export type DrMethod = (code: Uint32Array | null, vector: Float32Array, opts: SearchOptions) => DrTopK

export function createDeepRetrievalMethod (
  items: MipsItems, structure: DeepRetrievalStructure, rerank: HybridReranker, filtered: FilteredPaths, stats: SearchStats,
  mips: (vector: Float32Array, opts: SearchOptions) => TopK, hybrid: (code: Uint32Array, vector: Float32Array, opts: SearchOptions) => TopK,
): { search: DrMethod, info: DeepRetrievalInfo } {
  const t0 = performance.now()
  const index = createDeepRetrievalIndex(structure.network, structure.itemKeys, items.itemCount, structure.beam)
  const buildMs = performance.now() - t0
  const drSearch = createDeepRetrievalSearch(items, index, rerank, DR_LIMITS.maxBeam)
  const search: DrMethod = (code, vector, opts) => {
    if (vector.length < items.dimension) throw new RangeError(`query vector has ${vector.length} dimensions, expected ${items.dimension}`)
    const beam = Math.max(1, Math.min(DR_LIMITS.maxBeam, opts.beam ?? index.defaultBeam))
    const filter = opts.filter
    if (opts.k <= 0 || items.itemCount === 0 || filter?.count === 0) return { ...EMPTY_TOP_K, fallback: null, beam }
    // A small eligible set is re-ranked whole, exactly, as the hybrid does: cheaper than a search.
    if (filter !== undefined && filtered.small(filter)) return { ...rerank(filtered.eligible(filter, opts.exclude), vector, opts.k), fallback: null, beam }
    stats.drQueries++
    // Pages of one ranking gather the same number of items at every depth (SearchOptions.stable).
    const gather = opts.stable === true ? Math.max(opts.k, opts.candidates ?? 0) : opts.k
    const top = drSearch(vector, { k: opts.k, beam, exclude: opts.exclude, filter, gather })
    if (drSearch.lastBeam > beam) stats.drWidened++
    if (top !== null) return { ...top, fallback: null, beam: drSearch.lastBeam }
    stats.drFallbacks++
    return code === null
      ? { ...mips(vector, opts), fallback: 'mips', beam: drSearch.lastBeam }
      : { ...hybrid(code, vector, opts), fallback: 'hybrid', beam: drSearch.lastBeam }
  }
  const { depth, width, pathsPerItem, hidden } = index.network.shape
  const info: DeepRetrievalInfo = {
    depth, width, pathsPerItem, hidden,
    defaultBeam: index.defaultBeam,
    maxBeam: DR_LIMITS.maxBeam,
    paths: index.paths.keys.length,
    largestPath: index.paths.largestPath,
    memoryBytes: index.paths.memoryBytes + index.tables.flat().reduce((a, t) => a + t.byteLength, 0),
    buildMs,
  }
  return { search, info }
}
