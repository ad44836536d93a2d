/**
 * The retrieval engines over one catalog, built once: the HTTP layer passes the loaded Model, the
 * benchmarks a synthetic catalog, and both run the same code.
 */
import type { Model } from '../model-loader/model.js'
import type { DeepRetrievalStructure } from '../bundle-format/deep-retrieval.js'
import { createDeepRetrievalMethod, type DeepRetrievalInfo, type DrMethod } from './deep-retrieval/method.js'
import { createLinearHammingScan } from './hamming/linear-scan.js'
import { buildMultiIndexHamming, createMultiIndexHamming, defaultSubstringCount, MAX_SUBSTRING_BITS, type MultiIndexHamming } from './hamming/multi-index.js'
import { DEFAULT_HYBRID_CANDIDATES, DEFAULT_HYBRID_CODES_PER_CANDIDATE } from '../defaults.js'
import { createHybridReranker, MAX_HYBRID_CANDIDATES } from './hybrid.js'
import { exactMipsRows, exactMipsTopK } from './mips/brute-force.js'
import { createHnswMips, EF_MAX } from './mips/hnsw-mips.js'
import { EMPTY_TOP_K, TopKHeap } from './top-k.js'
import { FilteredPaths, ROW_LIST_MAX, SUBSET_MAX_SHARE } from './filtered-paths.js'
import type { RowFilter } from './row-filter.js'
import type { SearchOptions, SearchStats, TopK } from './types.js'

export { EF_MAX } from './mips/hnsw-mips.js'

export type SearchCatalog = Pick<Model, 'dimension' | 'codeBits' | 'codeWords' | 'itemCodes' | 'itemVectors' | 'itemNorms' | 'itemBias' | 'hnsw'> & {
  readonly itemCount: number
  /** The learned Deep Retrieval structure, when the bundle has one. */
  readonly deepRetrieval?: DeepRetrievalStructure | null
}

/** The loaded model as the engines see it. */
export function searchCatalogOf (model: Model): SearchCatalog {
  return {
    dimension: model.dimension, codeBits: model.codeBits, codeWords: model.codeWords, itemCodes: model.itemCodes, itemVectors: model.itemVectors,
    itemNorms: model.itemNorms, itemBias: model.itemBias, hnsw: model.hnsw, itemCount: model.items.size, deepRetrieval: model.deepRetrieval,
  }
}

/** The engines over a loaded model, built once per load (never per request). */
export function createModelEngines (model: Model, options: SearchEngineOptions = {}): SearchEngines {
  return createSearchEngines(searchCatalogOf(model), options)
}

export interface SearchEngineOptions {
  /** 'auto': multi-index tables from MIN_TABLE_ITEMS items up; true / false force them on or off. */
  readonly hammingTables?: 'auto' | boolean
  /** Substrings per code for the multi-index tables (manifest or config override). */
  readonly m?: number
  /** Per-query work budget of the tables as a share of the catalog, before the linear scan takes over. */
  readonly tableBudgetFraction?: number
  /** Catalogs up to this size use exact MIPS even when an HNSW index is loaded. */
  readonly exactMipsMaxItems?: number
  /** ef when a request gives none. */
  readonly defaultEf?: number
  /** Hybrid candidates when a request gives none. */
  readonly candidates?: number
  /**
   * Codes the hybrid's candidate stage may compare per candidate wanted before it stops probing
   * the multi-index tables and re-ranks the best it reached; 0 asks for the exact Hamming top-C (a
   * search that can compare tens of thousands of codes). Catalogs without tables always get the
   * exact linear scan.
   */
  readonly hybridCodesPerCandidate?: number
  /**
   * Hybrid re-rank through an int8 copy of the item vectors (itemCount x dimension bytes, rounded up
   * to 16 per row) that picks which candidates need their exact score: same results, fewer bytes
   * read. Default true; false saves that memory.
   */
  readonly hybridPrefilter?: boolean
  /**
   * Build large structures (the tables of catalogs over BACKGROUND_MIN_ITEMS) in slices that yield
   * to the event loop, finishing after createSearchEngines returns (await whenReady). For the
   * service, which keeps the previous model serving until then. Default false: built in one piece.
   */
  readonly backgroundBuild?: boolean
  /** Filters with at most this many rows are searched over their rows alone (default ROW_LIST_MAX). */
  readonly rowListMax?: number
  /** Filters below this share of a tabled catalog get a scan of their rows' codes (default SUBSET_MAX_SHARE). */
  readonly subsetMaxShare?: number
}

export interface SearchEnginesInfo {
  readonly itemCount: number
  readonly hamming: {
    readonly structure: 'multi-index' | 'linear'
    readonly m: number | null
    /** The tables' search loop: 'wasm' for codes up to 64 bits, 'js' otherwise. */
    readonly tableKernel: 'wasm' | 'js' | null
    readonly substringBits: readonly number[]
    readonly linearScan: 'wasm-popcnt'
    readonly memoryBytes: number
    readonly buildMs: number
  }
  readonly mips: {
    readonly structure: 'hnsw' | 'exact'
    readonly space: 'ip' | 'l2-mips' | null
    readonly exactMaxItems: number
    readonly defaultEf: number
    readonly efMax: number
  }
  readonly hybrid: {
    readonly defaultCandidates: number
    readonly maxCandidates: number
    readonly codesPerCandidate: number
    /** How the re-rank reads vectors: 'int8-prefilter' (exact results from fewer bytes) or 'float'. */
    readonly rerank: 'int8-prefilter' | 'float'
    /** False while a large catalog's int8 copy is still being built (the re-rank reads floats meanwhile). */
    readonly rerankReady: boolean
    readonly rerankMemoryBytes: number
  }
  /** The Deep Retrieval structure, null when the bundle has none. */
  readonly deepRetrieval: DeepRetrievalInfo | null
}

export interface SearchEngines {
  hamming (code: Uint32Array, opts: SearchOptions): TopK
  mips (vector: Float32Array, opts: SearchOptions): TopK
  hybrid (code: Uint32Array, vector: Float32Array, opts: SearchOptions): TopK
  /** Deep Retrieval; null when the catalog has no structure. `code` (null when the query has none) serves the hybrid fallback. */
  readonly dr: DrMethod | null
  readonly info: SearchEnginesInfo
  readonly stats: SearchStats
  /** Resolves when structures built in the background (the int8 copy) are done; results never depend on it. */
  readonly whenReady: Promise<void>
}

/**
 * Below this the WebAssembly scan answers in a few microseconds (0.6 ms per 1M codes measured) and
 * the tables' memory buys nothing.
 */
export const MIN_TABLE_ITEMS = 32_768
/**
 * Exact MIPS below this many items. On the trained default model (9,724 x 64) the scan took 0.819 ms
 * median against 0.041 ms for HNSW 'ip' at ef 64 with recall@10 1.0 (bench:search, BENCHMARKS.md),
 * so the graph wins long before 20k; a few thousand vectors scan in tens of microseconds.
 */
export const DEFAULT_EXACT_MIPS_MAX_ITEMS = 4096
/**
 * ef when neither the request nor the options give one. On the trained default model recall@10 was
 * 1.000 at ef 64 in the 'ip' space, while the l2-mips reduction needed ef 128 for 0.986 (0.916 at 64).
 */
export const DEFAULT_EF = { ip: 64, 'l2-mips': 128 } as const
const TABLE_RETRY_EVERY = 16
/** Tables over this many items are built in the background when asked (a few tens of ms below). */
export const BACKGROUND_MIN_ITEMS = 131_072

export function createSearchEngines (catalog: SearchCatalog, options: SearchEngineOptions = {}): SearchEngines {
  const { itemCount, codeWords, itemCodes, dimension } = catalog
  if (catalog.itemVectors.length < itemCount * dimension) throw new RangeError('itemVectors is shorter than itemCount x dimension')
  const items = { itemVectors: catalog.itemVectors, itemBias: catalog.itemBias, dimension, itemCount }

  const t0 = performance.now()
  const linear = createLinearHammingScan(itemCodes, codeWords, itemCount)
  const wantTables = options.hammingTables ?? 'auto'
  const m = options.m ?? defaultSubstringCount(catalog.codeBits, itemCount)
  const useTables = itemCount > 0 && (wantTables === true || (wantTables === 'auto' && itemCount >= MIN_TABLE_ITEMS && catalog.codeBits / m <= MAX_SUBSTRING_BITS + 1))
  const tableOptions = { m, budgetFraction: options.tableBudgetFraction }
  // In the background (the service's engines for a model about to be swapped in), the tables are
  // built in slices that yield to the event loop; until they are done searches take the linear
  // scan, and whenReady says when they are. In one piece otherwise.
  const background = options.backgroundBuild === true && useTables && itemCount > BACKGROUND_MIN_ITEMS
  let tables: MultiIndexHamming | null = useTables && !background ? createMultiIndexHamming(itemCodes, codeWords, itemCount, tableOptions) : null
  let hammingBuildMs = performance.now() - t0
  const tablesBuilt: Promise<void> = background
    ? buildMultiIndexHamming(itemCodes, codeWords, itemCount, tableOptions).then((built) => { tables = built; hammingBuildMs = performance.now() - t0 })
    : Promise.resolve()

  const exactMaxItems = options.exactMipsMaxItems ?? DEFAULT_EXACT_MIPS_MAX_ITEMS
  const defaultEf = options.defaultEf ?? DEFAULT_EF[catalog.hnsw?.space ?? 'ip']
  const hnsw = catalog.hnsw !== null && itemCount > exactMaxItems ? createHnswMips(items, catalog.hnsw, defaultEf) : null
  let exactHeap = new TopKHeap(64)
  let exactScores = new Float64Array(0)
  const filtered = new FilteredPaths(itemCodes, codeWords, itemCount, options.rowListMax ?? ROW_LIST_MAX, options.subsetMaxShare ?? SUBSET_MAX_SHARE)
  const rerank = createHybridReranker(items, options.hybridPrefilter ?? true)
  const defaultCandidates = options.candidates ?? DEFAULT_HYBRID_CANDIDATES
  const codesPerCandidate = options.hybridCodesPerCandidate ?? DEFAULT_HYBRID_CODES_PER_CANDIDATE
  if (!(codesPerCandidate >= 0)) throw new RangeError(`hybridCodesPerCandidate must be >= 0, got ${codesPerCandidate}`)
  const stats: SearchStats = { tableQueries: 0, tableFallbacks: 0, hybridQueries: 0, hybridBounded: 0, drQueries: 0, drWidened: 0, drFallbacks: 0 }
  // Share of recent table queries that ran over budget. When most do (codes with large
  // nearest-neighbour radii, e.g. uniform random codes) the tables only add their wasted budget to
  // every scan, so queries go straight to the scan, with one in TABLE_RETRY_EVERY still trying the
  // tables to notice when traffic changes. Results are exact either way.
  // Filtered queries keep their own rate: a filter that sends its queries to the scan (the tables
  // reach ineligible rows too) must not send the unfiltered ones there.
  const rates = { plain: { fallbackRate: 0, sinceTables: 0 }, filtered: { fallbackRate: 0, sinceTables: 0 } }

  /** Exact Hamming top-k, or with maxCodes the bounded table search (the hybrid's candidate stage). */
  const hammingTopK = (code: Uint32Array, k: number, exclude: SearchOptions['exclude'], maxCodes?: number, ordered = true, filter?: RowFilter): TopK => {
    const rate = filter === undefined ? rates.plain : rates.filtered
    if (tables && (rate.fallbackRate < 0.5 || ++rate.sinceTables >= TABLE_RETRY_EVERY)) {
      rate.sinceTables = 0
      stats.tableQueries++
      const result = tables.search(code, k, exclude, maxCodes, ordered, filter)
      rate.fallbackRate = 0.9 * rate.fallbackRate + (result ? 0 : 0.1)
      if (result) {
        if (!tables.lastExact) stats.hybridBounded++
        return result
      }
      stats.tableFallbacks++
    }
    const subset = filter === undefined ? null : filtered.subset(filter, tables !== null)
    return subset !== null ? subset.search(code, k, exclude) : linear.search(code, k, exclude, filter)
  }

  const hamming = (code: Uint32Array, opts: SearchOptions): TopK => {
    if (opts.k <= 0 || itemCount === 0) return EMPTY_TOP_K
    if (code.length < codeWords) throw new RangeError(`query code has ${code.length} words, expected ${codeWords}`)
    const filter = opts.filter
    if (filter !== undefined && filtered.small(filter)) return filtered.hamming(code, filter, opts.k, opts.exclude)
    return hammingTopK(code, opts.k, opts.exclude, undefined, true, filter)
  }

  const mips = (vector: Float32Array, opts: SearchOptions): TopK => {
    if (opts.k <= 0 || itemCount === 0 || opts.filter?.count === 0) return EMPTY_TOP_K
    if (vector.length < dimension) throw new RangeError(`query vector has ${vector.length} dimensions, expected ${dimension}`)
    if (hnsw) return hnsw.search(vector, opts.k, opts.ef, opts.exclude, opts.filter, opts.stable)
    if (exactHeap.capacity < opts.k) exactHeap = new TopKHeap(opts.k)
    const filter = opts.filter
    // Scoring the eligible rows alone reads less than the whole catalog unless most are eligible.
    if (filter !== undefined && filter.count * 2 <= itemCount) {
      if (exactScores.length < filter.count) exactScores = new Float64Array(filter.count)
      return exactMipsRows(items, vector, filter.rows, filter.count, opts.k, opts.exclude, exactHeap, exactScores)
    }
    return exactMipsTopK(items, vector, opts.k, opts.exclude, exactHeap, filter)
  }

  const hybrid = (code: Uint32Array, vector: Float32Array, opts: SearchOptions): TopK => {
    if (opts.k <= 0 || itemCount === 0) return EMPTY_TOP_K
    if (vector.length < dimension) throw new RangeError(`query vector has ${vector.length} dimensions, expected ${dimension}`)
    const c = Math.min(MAX_HYBRID_CANDIDATES, Math.max(opts.k, opts.candidates ?? defaultCandidates))
    if (code.length < codeWords) throw new RangeError(`query code has ${code.length} words, expected ${codeWords}`)
    const filter = opts.filter
    if (filter !== undefined) {
      // Few enough eligible rows that the re-rank can score them all: the exact answer, for less
      // than a candidate stage costs (its int8 prefilter reads a 64-byte line per row).
      if (filtered.small(filter)) return rerank(filtered.eligible(filter, opts.exclude), vector, opts.k)
      const subset = filtered.subset(filter, tables !== null)
      if (subset !== null) return rerank(subset.search(code, c, opts.exclude), vector, opts.k)
    }
    // A stable search (pages of one ranking) takes the exact candidate stage: the bounded one's
    // answer depends on whether the tables or the scan serve it, which recent queries decide.
    if (tables !== null && codesPerCandidate > 0 && opts.stable !== true) {
      stats.hybridQueries++
      // Over-fetch by the exclusion count, as the scan does, so exclusions cannot eat the bound, and
      // by the filter's share: about one entry in 1 / share is eligible.
      const share = filter === undefined ? 1 : filter.count / itemCount
      const maxCodes = Math.ceil((c + (opts.exclude?.size ?? 0)) * codesPerCandidate / share)
      return rerank(hammingTopK(code, c, opts.exclude, maxCodes, false, filter), vector, opts.k)
    }
    // The re-rank orders the candidates itself: the tables need not order them within a distance.
    return rerank(hammingTopK(code, c, opts.exclude, undefined, false, filter), vector, opts.k)
  }

  // The structure's derived data (prefix tables, path index) is built here, once per model.
  const deepRetrieval = catalog.deepRetrieval ? createDeepRetrievalMethod(items, catalog.deepRetrieval, rerank, filtered, stats, mips, hybrid) : null
  const dr = deepRetrieval?.search ?? null

  return {
    hamming,
    mips,
    hybrid,
    dr,
    stats,
    whenReady: Promise.all([tablesBuilt, rerank.whenReady]).then(() => undefined),
    info: {
      itemCount,
      hamming: {
        get structure () { return tables ? 'multi-index' : 'linear' },
        get m () { return tables ? tables.m : null },
        get tableKernel () { return tables ? tables.kernel : null },
        get substringBits () { return tables ? tables.substringBits : [] },
        linearScan: 'wasm-popcnt',
        get memoryBytes () { return linear.memoryBytes + (tables?.memoryBytes ?? 0) },
        get buildMs () { return hammingBuildMs },
      },
      mips: {
        structure: hnsw ? 'hnsw' : 'exact',
        space: hnsw ? catalog.hnsw?.space ?? null : null,
        exactMaxItems,
        defaultEf,
        efMax: EF_MAX,
      },
      hybrid: {
        defaultCandidates,
        maxCandidates: MAX_HYBRID_CANDIDATES,
        codesPerCandidate,
        rerank: rerank.prefilter ? 'int8-prefilter' : 'float',
        get rerankReady (): boolean { return rerank.prefilterReady },
        rerankMemoryBytes: rerank.memoryBytes,
      },
      deepRetrieval: deepRetrieval?.info ?? null,
    },
  }
}
