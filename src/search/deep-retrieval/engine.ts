/**
 * Deep Retrieval serving (Gao et al., section 3.4): beam search over the learned structure, then
 * an exact re-rank of the items on the final paths by inner product with the served vectors.
 *
 * Exclusions and the eligibility filter are applied while the items are gathered, so they never
 * cost a score. When the beam's paths hold fewer than k eligible items the beam is widened
 * (x4 each time) up to `maxBeam`; a search that still has too few returns null and the caller
 * serves another method.
 */
import type { MipsItems } from '../mips/brute-force.js'
import type { HybridReranker } from '../hybrid.js'
import type { RowFilter } from '../row-filter.js'
import type { ExcludeSet, TopK } from '../types.js'
import { BeamSearch } from './beam-search.js'
import { computePrefixTables, normalizeInput, type DrNetwork } from './network.js'
import { buildPathIndex, findPath, type DrPathIndex } from './path-index.js'

/** The structure as the engine uses it: the network, its prefix tables and the path index, built once per model. */
export interface DeepRetrievalIndex {
  readonly network: DrNetwork
  readonly tables: Float32Array[][]
  readonly paths: DrPathIndex
  /** Beam when a request gives none. */
  readonly defaultBeam: number
}

export function createDeepRetrievalIndex (network: DrNetwork, itemKeys: Int32Array, itemCount: number, defaultBeam: number): DeepRetrievalIndex {
  return { network, tables: computePrefixTables(network), paths: buildPathIndex(network.shape, itemKeys, itemCount), defaultBeam }
}

export interface DrSearchOptions {
  readonly k: number
  readonly beam?: number
  readonly exclude?: ExcludeSet
  /** Only these rows may be returned (the request's filters and the catalog's rules). */
  readonly filter?: RowFilter
  /**
   * Eligible items the paths must hold before the beam stops widening (default k). Pages of one
   * ranking ask for the same number at every depth, so every page re-ranks the same candidates.
   */
  readonly gather?: number
}

export interface DrSearch {
  /** Top-k by exact inner product among the eligible items on the beam's paths, or null when fewer than k are there even at maxBeam. */
  (query: Float32Array, opts: DrSearchOptions): TopK | null
  /** The beam the last search ended with (after widening), and the paths it gathered from. */
  readonly lastBeam: number
  readonly lastPaths: number
}

export function createDeepRetrievalSearch (items: MipsItems, index: DeepRetrievalIndex, rerank: HybridReranker, maxBeam: number): DrSearch {
  const { network, paths } = index
  const n = network.shape.inputDimension
  const beamSearch = new BeamSearch(network, index.tables, maxBeam)
  const unit = new Float32Array(n)
  const stamps = new Uint32Array(items.itemCount)
  let stamp = 0
  let candidates = new Int32Array(1024)
  const state = { lastBeam: 0, lastPaths: 0 }

  /** Gathers the eligible, distinct items on the first `count` paths of the last beam search; returns how many. */
  const gather = (count: number, exclude: ExcludeSet | undefined, filter: RowFilter | undefined): number => {
    if (++stamp === 0xffffffff) { stamps.fill(0); stamp = 1 }
    let m = 0
    for (let i = 0; i < count; i++) {
      const p = findPath(paths, beamSearch.keys[i])
      if (p < 0) continue
      const to = paths.offsets[p + 1]
      if (m + (to - paths.offsets[p]) > candidates.length) {
        const grown = new Int32Array(Math.max(candidates.length * 2, m + to - paths.offsets[p]))
        grown.set(candidates.subarray(0, m))
        candidates = grown
      }
      for (let q = paths.offsets[p]; q < to; q++) {
        const row = paths.items[q]
        if (stamps[row] === stamp) continue
        stamps[row] = stamp
        if (exclude !== undefined && exclude.has(row)) continue
        if (filter !== undefined && !filter.has(row)) continue
        candidates[m++] = row
      }
    }
    return m
  }

  const search = (query: Float32Array, opts: DrSearchOptions): TopK | null => {
    if (!normalizeInput(query, n, unit)) return null
    let beam = Math.max(1, Math.min(maxBeam, opts.beam ?? index.defaultBeam))
    for (;;) {
      const count = beamSearch.run(unit, beam, paths.allowed)
      const m = gather(count, opts.exclude, opts.filter)
      state.lastBeam = beam
      state.lastPaths = count
      // Fewer paths than the beam: every non-empty path was reached (a truncated layer leaves at
      // least `beam` non-empty paths below it), so these are all the eligible items there are.
      if (m >= Math.max(opts.k, opts.gather ?? 0) || count < beam) return rerank({ rows: candidates.subarray(0, m), scores: EMPTY_SCORES, candidatesExamined: 0 }, query, opts.k)
      if (beam >= maxBeam) return null
      beam = Math.min(maxBeam, beam * 4)
    }
  }
  return Object.defineProperties(search, {
    lastBeam: { get: () => state.lastBeam },
    lastPaths: { get: () => state.lastPaths },
  }) as DrSearch
}

const EMPTY_SCORES = new Float32Array(0)
