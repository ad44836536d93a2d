import type { FilterSpec } from '../catalog/catalog-view.js'
import type { SearchEngines } from '../search/engines.js'
import type { SearchMethod } from '../search/types.js'
import type { TrendingItem } from '../state/types.js'

/**
 * What the recommender needs of the retrieval engines (src/search/engines.ts builds them once per
 * model): the three searches, and what the engines report when they have it.
 */
export interface RecommenderEngines extends Pick<SearchEngines, 'hamming' | 'mips' | 'hybrid'>, Partial<Pick<SearchEngines, 'dr' | 'info' | 'stats' | 'whenReady'>> {}

export type ServedMethod = SearchMethod | 'popular'

/** Where the query came from (documented per value in openapi.yaml). */
export type QuerySource = 'dedicated' | 'solved' | 'hashed' | 'fold-in' | 'history' | 'vector' | 'code' | 'item' | 'none'

/**
 * What the real-time layer knows about a request, fetched (asynchronously, under a time budget)
 * before the synchronous recommender runs. Everything is optional: an empty context serves from
 * the model alone.
 */
export interface RealtimeContext {
  /** The user's recent distinct item ids, newest first; ids outside the catalog are skipped. */
  readonly history?: readonly string[]
  /** Leave out the items the user interacted with (training data and history). Default true. */
  readonly excludeSeen?: boolean
  /** Trending items, best first: the cold-start fallback in place of the bundle's popularity order. */
  readonly trending?: readonly TrendingItem[]
}

/**
 * A request as a client sends it: without `method`, the model's default (the manifest's
 * `serving.defaultMethod`, hybrid when it does not say). The recommender resolves it once on entry,
 * so the cache key, the answer and everything below see the method actually asked for.
 */
export interface RecommendRequest extends Omit<RecommendOptions, 'method'> {
  readonly method?: SearchMethod | undefined
}

/** A request's options, its method resolved; the filters (tags, excludeTags, allowedItemIds) are FilterSpec's (src/catalog). */
export interface RecommendOptions extends FilterSpec {
  readonly k: number
  readonly method: SearchMethod
  /** Item ids to leave out; ids outside the catalog are ignored (a frontend's list may be stale). */
  readonly exclude?: readonly string[]
  readonly ef?: number
  /** Deep Retrieval's beam (default: the bundle's). */
  readonly beam?: number
  /** Present when the request pages: the page [offset, offset + k) of one ranking (src/recommend/ranking.ts). */
  readonly offset?: number
  /** MMR trade-off in [0, 1] (src/recommend/diversity.ts); 0 or absent keeps the engines' order. */
  readonly diversity?: number
  /** Add each item's reason (src/recommend/explain.ts). */
  readonly explain?: boolean
  /** Add each item's effective tags. */
  readonly withTags?: boolean
  /** Add the answer's mean pairwise similarity. */
  readonly measureDiversity?: boolean
}

export interface RecommendedItem {
  id: string
  score: number
  rank: number
  title?: string
  /** Shared with the catalog view (never modified): typed mutable only to fit the response schema. */
  tags?: string[]
  reason?: 'similar' | 'profile' | 'trending' | 'popular'
  because?: { id: string, title?: string }
}

export interface RecommendationResult {
  modelVersion: string
  method: ServedMethod
  /** The method asked for: the request's, or the model's default when it named none. */
  requestedMethod: SearchMethod
  /** No signal for the query: `trending` (real-time counts) or `popular` (the bundle's order) items were served. */
  fallback?: 'popular' | 'trending'
  /** The state store failed or timed out: served from the model alone (no history, fold-in or trending). */
  degraded?: boolean
  /** Why `method` differs from `requestedMethod` (no code for this query, no vector for a code, no Deep Retrieval structure or too few items on its paths). */
  methodNote?: string
  source: QuerySource
  candidatesExamined: number
  items: RecommendedItem[]
  meanPairwiseSimilarity?: number
}

/** A session user: recent item ids (fold-in), a raw vector, or a hex code. Exactly one is set. */
export type SessionQuery =
  | { readonly itemIds: readonly string[] }
  | { readonly vector: readonly number[] }
  | { readonly code: string }
