import type { SearchMethod, SearchOptions, TopK } from '../search/types.js'

/** What the recommender needs from the retrieval engines (src/search/engines.ts builds them once per model). */
export interface QueryEngines {
  hamming (code: Uint32Array, opts: SearchOptions): TopK
  mips (vector: Float32Array, opts: SearchOptions): TopK
  hybrid (code: Uint32Array, vector: Float32Array, opts: SearchOptions): TopK
  /** Which structures the engines chose (shown by GET /v1/model). */
  readonly info?: unknown
}

export type ServedMethod = SearchMethod | 'popular'

/** Where the query came from (documented per value in openapi.yaml). */
export type QuerySource = 'dedicated' | 'hashed' | 'fold-in' | 'vector' | 'code' | 'item' | 'none'

export interface RecommendOptions {
  readonly k: number
  readonly method: SearchMethod
  /** Item ids to leave out; ids outside the catalog are ignored (a frontend's list may be stale). */
  readonly exclude?: readonly string[]
  readonly ef?: number
}

export interface RecommendedItem {
  id: string
  score: number
  rank: number
  title?: string
}

export interface RecommendationResult {
  modelVersion: string
  method: ServedMethod
  requestedMethod: SearchMethod
  fallback?: 'popular'
  /** Why `method` differs from `requestedMethod` (no code for this query, no vector for a code). */
  methodNote?: string
  source: QuerySource
  candidatesExamined: number
  items: RecommendedItem[]
}

/** A session user: recent item ids (fold-in), a raw vector, or a hex code. Exactly one is set. */
export type SessionQuery =
  | { readonly itemIds: readonly string[] }
  | { readonly vector: readonly number[] }
  | { readonly code: string }
