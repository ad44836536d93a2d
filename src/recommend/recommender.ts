/**
 * The domain layer between the serving facade and the retrieval engines, one per loaded model:
 * turns a user id, an item id or a session into a query (query.ts), leaves out what the query
 * excludes (exclusion.ts), searches by the method the query supports and shapes the ranked rows
 * (search-answer.ts), falls back to trending or popular items when there is no signal
 * (fallback.ts), and keeps whole answers between requests (result-cache.ts). Synchronous, so the
 * per-model scratch buffers are never shared between two requests in flight.
 */
import { DEFAULT_FOLD_IN_CACHE_BYTES, DEFAULT_HYBRID_CANDIDATES, DEFAULT_RESULT_CACHE_BYTES } from '../defaults.js'
import type { CatalogView } from '../catalog/catalog-view.js'
import { defaultMethodOf } from '../bundle-format/manifest.js'
import type { Model } from '../model-loader/model.js'
import type { SearchMethod } from '../search/types.js'
import type { RuleBook } from '../state/item-rules.js'
import { PLAIN_ANSWERS, type AnswerFacts, type AnswerForm } from './answer-form.js'
import { CheckedLru, IDS } from './checked-lru.js'
import { UnknownItemError } from './errors.js'
import { excludeRows, SeenRows } from './exclusion.js'
import { Fallback } from './fallback.js'
import { FoldInCache } from './fold-in-cache.js'
import { Listing } from './listing.js'
import { Query } from './query.js'
import { resultKey } from './result-cache.js'
import { searchAnswer } from './search-answer.js'
import { SessionAnswers } from './session.js'
import type { RealtimeContext, RecommendationResult, RecommenderEngines, RecommendOptions, RecommendRequest, SessionQuery } from './types.js'
import { UserAnswers, type UserLookup } from './user.js'

export type { UserLookup } from './user.js'

const NO_CONTEXT: RealtimeContext = {}
const NO_HISTORY: readonly string[] = Object.freeze([])
/** The context of a request by a user with no recent history, seen items excluded (the default). */
const WARM_CONTEXT: RealtimeContext = Object.freeze({ history: NO_HISTORY, excludeSeen: true })

export interface RecommenderOptions<A extends AnswerFacts = RecommendationResult> {
  /** Hybrid: Hamming candidates re-ranked by inner product. */
  readonly hybridCandidates?: number
  /** Bytes of folded-in user vectors kept between requests; 0 solves every time. */
  readonly foldInCacheBytes?: number
  /** Bytes of whole user and similar-items answers kept between requests (src/recommend/result-cache.ts); 0 keeps none. */
  readonly resultCacheBytes?: number
  /** The form answers are returned and kept in (src/recommend/answer-form.ts); plain results by default. */
  readonly form?: AnswerForm<A>
  /** The process's catalog rules (src/state/item-rules.ts), or a function giving them once the state store is open. */
  readonly rules?: RuleBook | (() => RuleBook | undefined)
}

/** Plain counters read by the metrics at scrape time. */
export interface RecommenderStats {
  /** User fold-ins solved, and answered from the cache (the same rows as a kept solve). */
  readonly foldInSolved: number
  readonly foldInCached: number
  /** User and similar-items answers served from the result cache, and computed (misses). */
  readonly resultCached: number
  readonly resultComputed: number
  /** Answers computed ahead of requests by `warm` (not in resultComputed). */
  readonly resultWarmed: number
  /** What each cache holds now: entries, and their estimated bytes (the quantity its budget bounds). */
  readonly resultCacheEntries: number
  readonly resultCacheBytes: number
  /** The result cache's budget (RecommenderOptions.resultCacheBytes); 0 when answers are not kept. */
  readonly resultCacheBudgetBytes: number
  readonly foldInCacheEntries: number
  readonly foldInCacheBytes: number
}

/** An answer, and whether it came from the result cache (so it searched nothing now). */
export interface Answer<A> {
  readonly result: A
  readonly cached: boolean
}

export interface Recommender<A extends AnswerFacts = RecommendationResult> {
  readonly model: Model
  readonly engines: RecommenderEngines
  /** The method a request that names none is served by: the manifest's `serving.defaultMethod`, hybrid when it does not say. */
  readonly defaultMethod: SearchMethod
  /** The catalog rules applied to this model (availability, tags, boosts, filters); synced at each request. */
  readonly catalog: CatalogView
  /** The user as this model sees them, with their recent history: whether the fallback is their answer. */
  lookUpUser (userId: string, history: readonly string[]): UserLookup
  /**
   * Top-K for a user looked up with the context's history. With a context: their training items
   * and recent history are excluded (excludeSeen, default true), a history that adds items beyond
   * the training data is folded in (source `history`), and trending items replace the popularity
   * order as the fallback.
   */
  userAnswer (user: UserLookup, opts: RecommendRequest, context?: RealtimeContext): Answer<A>
  /** lookUpUser and userAnswer in one call, the answer alone. */
  forUser (userId: string, opts: RecommendRequest, context?: RealtimeContext): A
  /** Items near an item, the item itself excluded; throws UnknownItemError for an id outside the catalog. */
  similarAnswer (itemId: string, opts: RecommendRequest): Answer<A>
  similarItems (itemId: string, opts: RecommendRequest): A
  /** A session's items, a raw vector or a hex code (never kept); throws IncompatibleQueryError when it does not fit the model. */
  forSession (query: SessionQuery, opts: RecommendRequest, context?: RealtimeContext): A
  /**
   * Computes and keeps the answer a request of this user with these options would get with no
   * recent history (src/recommend/warm-up.ts); true when it computed one (kept unless it is a
   * fallback), false when one was kept already or answers are not kept at all.
   */
  warm (userId: string, opts: RecommendRequest): boolean
  /** True when the model alone has a vector for this user (a dedicated row or hashed rows): no fallback needed. */
  hasSignal (userId: string): boolean
  readonly stats: RecommenderStats
}

export function createRecommender (model: Model, engines: RecommenderEngines, options?: RecommenderOptions): Recommender
export function createRecommender<A extends AnswerFacts> (model: Model, engines: RecommenderEngines, options: RecommenderOptions<A> & { readonly form: AnswerForm<A> }): Recommender<A>
export function createRecommender<A extends AnswerFacts> (model: Model, engines: RecommenderEngines, options: RecommenderOptions<A> = {}): Recommender<A> {
  const form = options.form ?? (PLAIN_ANSWERS as unknown as AnswerForm<A>)
  const candidates = options.hybridCandidates ?? DEFAULT_HYBRID_CANDIDATES
  // Scratch reused by every query on this model: a reload builds a new recommender with its own.
  const query = new Query(model)
  const seen = new SeenRows(model.items.size, UserAnswers.capacity(model))
  const listing = new Listing(model, options.rules ?? (() => undefined), candidates)
  const catalog = listing.catalog
  const fallback = new Fallback(model, seen, listing)
  const folded = new FoldInCache(options.foldInCacheBytes ?? DEFAULT_FOLD_IN_CACHE_BYTES)
  const users = new UserAnswers(model, engines, query, seen, fallback, folded, listing)
  const sessions = new SessionAnswers(model, engines, query, fallback, listing)
  const itemRow = new Int32Array(1)
  const answerBudget = options.resultCacheBytes ?? DEFAULT_RESULT_CACHE_BYTES
  const answers = new CheckedLru<A, readonly string[]>(answerBudget, IDS)
  let warmed = 0
  const defaultMethod = defaultMethodOf(model.manifest)

  /** The request with its method: the model's default when it names none (one copy, only then). */
  function resolved (opts: RecommendRequest): RecommendOptions {
    return opts.method !== undefined ? opts as RecommendOptions : { ...opts, method: defaultMethod }
  }

  /** A computed result as the request gets it: kept under `key` against `inputs`, or not kept (key undefined). */
  function computed (result: RecommendationResult, key: string | undefined, inputs: readonly string[]): Answer<A> {
    if (key === undefined) return { result: form.of(result), cached: false }
    const kept = form.keep(result)
    answers.put(key, inputs, kept.answer, kept.bytes, catalog.epoch)
    return { result: kept.answer, cached: false }
  }

  function userAnswer (user: UserLookup, request: RecommendRequest, context: RealtimeContext = NO_CONTEXT): Answer<A> {
    const opts = resolved(request)
    catalog.sync()
    if (!answers.enabled) return computed(users.answer(user, users.catalogRows(context.history), opts, context), undefined, NO_HISTORY)
    // With the user id (which fixes the training items) and the request, the history's ids in
    // order are all an answer depends on: a kept answer is checked against them alone, with no
    // lookup in the id index and no walk over the training items (thousands for heavy users).
    const history = context.history ?? NO_HISTORY
    // The fallback without trending items depends on the request alone: one kept answer serves
    // every user who gets it. Trending items change with everybody's events: such answers are not kept.
    const fallback = user.fallback
    if (fallback && context.trending !== undefined && context.trending.length > 0) return computed(users.answer(user, 0, opts, context), undefined, NO_HISTORY)
    const key = resultKey(fallback ? 'p' : 'u', fallback ? '' : user.id, opts, context.excludeSeen !== false)
    const inputs = fallback ? NO_HISTORY : history
    // A kept answer is stale once a catalog rule changed since it was computed (the view's epoch).
    const kept = answers.get(key, inputs, catalog.epoch)
    if (kept !== undefined) return { result: kept, cached: true }
    const result = users.answer(user, fallback ? 0 : users.catalogRows(history), opts, context)
    // A fallback for a user with signal (a degenerate fold-in) is not kept either.
    return computed(result, result.method === 'popular' && !fallback ? undefined : key, inputs)
  }

  function similarAnswer (itemId: string, request: RecommendRequest): Answer<A> {
    const opts = resolved(request)
    const row = model.items.rowOf(itemId)
    if (row === undefined) throw new UnknownItemError(itemId)
    catalog.sync()
    const key = answers.enabled ? resultKey('i', itemId, opts, true) : undefined
    if (key !== undefined) {
      const kept = answers.get(key, NO_HISTORY, catalog.epoch)
      if (kept !== undefined) return { result: kept, cached: true }
    }
    itemRow[0] = row
    const exclude = excludeRows(model.items, opts.exclude, itemRow, 1)
    return computed(searchAnswer(model, engines, query.fromItem(row), opts, exclude, listing, { rows: itemRow, count: 1 }), key, NO_HISTORY)
  }

  const lookUpUser = (userId: string, history: readonly string[]): UserLookup => users.lookUp(userId, history)
  return {
    model,
    engines,
    defaultMethod,
    catalog,
    stats: {
      get foldInSolved () { return folded.misses },
      get foldInCached () { return folded.hits },
      get resultCached () { return answers.hits },
      get resultComputed () { return answers.misses - warmed },
      get resultWarmed () { return warmed },
      get resultCacheEntries () { return answers.size },
      get resultCacheBytes () { return answers.usedBytes },
      resultCacheBudgetBytes: answerBudget,
      get foldInCacheEntries () { return folded.size },
      get foldInCacheBytes () { return folded.usedBytes },
    },
    lookUpUser,
    userAnswer,
    forUser: (userId, opts, context) => userAnswer(lookUpUser(userId, context?.history ?? NO_HISTORY), opts, context).result,
    similarAnswer,
    similarItems: (itemId, opts) => similarAnswer(itemId, opts).result,
    forSession: (session: SessionQuery, opts, context = NO_CONTEXT) => { catalog.sync(); return form.of(sessions.answer(session, resolved(opts), context)) },
    hasSignal: (userId) => users.hasSignal(userId),
    warm (userId, opts) {
      const before = answers.misses
      userAnswer(lookUpUser(userId, NO_HISTORY), opts, WARM_CONTEXT)
      const computedNow = answers.misses - before
      warmed += computedNow
      return computedNow > 0
    },
  }
}
