import type { SEARCH_METHODS } from '../defaults.js'

/**
 * The contract between the retrieval engines and their callers (HTTP layer, benchmarks, trainer
 * evaluation). Engines are plain TypeScript over the loaded Model's typed arrays.
 */
import type { RowFilter } from './row-filter.js'

/** Rows to skip. A Set<number> satisfies it; so does a bitset wrapper. */
export interface ExcludeSet {
  has (row: number): boolean
  readonly size: number
  /**
   * Each excluded row once, when the set can list them (a Set<number> can): lets the linear scan
   * mark them in its own bitmap and skip them inside the scan instead of over-fetching by `size`.
   */
  forEach? (fn: (row: number) => void): void
}

export interface SearchOptions {
  /** Results wanted; the engines return min(k, eligible items that are not excluded). */
  readonly k: number
  readonly exclude?: ExcludeSet
  /** Only these rows may be returned (row-filter.ts); all rows when absent. */
  readonly filter?: RowFilter
  /** HNSW search breadth (mips, and hybrid never uses it). Clamped by the engine to [k, EF_MAX]. */
  readonly ef?: number
  /**
   * Candidates that do not depend on k up to the breadth (ef for HNSW, candidates for the hybrid):
   * the top k and the top k' <= breadth are prefixes of one ranking, so pages cut from searches of
   * different depths never repeat an item. Exact searches always are; HNSW then takes exclusions
   * and filters through its filter callback at a fixed ef instead of widening with k.
   */
  readonly stable?: boolean
  /** Hybrid: Hamming candidates re-ranked by inner product (default DEFAULT_HYBRID_CANDIDATES). */
  readonly candidates?: number
  /** Deep Retrieval: prefixes kept per layer of the beam search (default: the bundle's). */
  readonly beam?: number
}

/**
 * Ranked results, best first. Scores are "higher is better":
 * - hamming: codeBits - 2 * HammingDistance (the inner product of the +-1 codes);
 *   ties broken by lower item row first;
 * - mips and hybrid: the inner product u . v (+ item bias when the model has biases).
 */
export interface TopK {
  readonly rows: Int32Array
  readonly scores: Float32Array
  /** Items whose score was computed (a metric, and a measure of work done). */
  readonly candidatesExamined: number
}

export type SearchMethod = (typeof SEARCH_METHODS)[number]

/** Running counts of the paths searches took since the engines were built (exported as Prometheus counters). */
export interface SearchStats {
  /** Hamming searches the multi-index tables took, and those that ran over budget to the linear scan. */
  tableQueries: number
  tableFallbacks: number
  /** Hybrid searches on the bounded candidate stage, and those the bound cut short. */
  hybridQueries: number
  hybridBounded: number
  /** Deep Retrieval searches, those whose beam was widened, and those that fell back to another method. */
  drQueries: number
  drWidened: number
  drFallbacks: number
}
