/**
 * The domain layer between the HTTP routes and the retrieval engines: turns a user id, an item id
 * or a session into a query (code and/or vector), picks the method the query supports, falls back
 * to popular items when there is no signal, and shapes ranked rows into items. Synchronous, so the
 * per-model scratch buffers below are never shared between two requests in flight.
 */
import { CatalogView } from '../catalog/catalog-view.js'
import type { Model } from '../model-loader/model.js'
import { createFoldInScratch, foldInVector } from '../realtime/fold-in.js'
import type { ExcludeSet, SearchMethod, SearchOptions, TopK } from '../search/types.js'
import type { RuleBook } from '../state/item-rules.js'
import { majorityCode, parseHexCode, projectCode } from './codes.js'
import { IncompatibleQueryError, UnknownItemError } from './errors.js'
import { excludeRows } from './exclude.js'
import { DEFAULT_FOLD_IN_CACHE_BYTES, FoldInCache } from './fold-in-cache.js'
import { DEFAULT_RESULT_CACHE_BYTES, keepAnswer, resultKey } from './result-cache.js'
import { CheckedLru, IDS } from './checked-lru.js'
import { closestBasisRows, EXPLAIN_MAX_ITEMS } from './explain.js'
import { meanPairwiseSimilarity } from './item-similarity.js'
import { MAX_PAGED_DEPTH, rankPage, searchDepth } from './ranking.js'
import type { QueryEngines, QuerySource, RealtimeContext, RecommendationResult, RecommendedItem, RecommendOptions, SessionQuery, TrendingEntry } from './types.js'

/** Most item ids a session query may carry (the HTTP schema enforces the same bound). */
export const MAX_SESSION_ITEMS = 1000
/** Most history items one user query folds in (HISTORY_LENGTH has the same bound). */
export const MAX_HISTORY_ITEMS = 10_000

const NO_CONTEXT: RealtimeContext = {}
const NO_HISTORY: readonly string[] = Object.freeze([])
/** The context of a request by a user with no recent history, seen items excluded (the default). */
const WARM_CONTEXT: RealtimeContext = Object.freeze({ history: NO_HISTORY, excludeSeen: true })

export interface RecommenderOptions {
  /** Hybrid: Hamming candidates re-ranked by inner product. */
  readonly hybridCandidates?: number
  /** Bytes of folded-in user vectors kept between requests; 0 solves every time. */
  readonly foldInCacheBytes?: number
  /** Bytes of whole user and similar-items answers kept between requests (src/recommend/result-cache.ts); 0 keeps none. */
  readonly resultCacheBytes?: number
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

export interface Recommender {
  readonly model: Model
  readonly engines: QueryEngines
  /** The catalog rules applied to this model (availability, tags, boosts, filters); synced at each request. */
  readonly catalog: CatalogView
  /**
   * Top-K for a user. With a context: their training items and recent history are excluded
   * (excludeSeen, default true), a history that adds items beyond the training data is folded in
   * (source `history`), and trending items replace the popularity order as the fallback.
   */
  forUser (userId: string, opts: RecommendOptions, context?: RealtimeContext): RecommendationResult
  /**
   * Computes and keeps the answer a request of this user with these options would get with no
   * recent history (src/recommend/warm-up.ts); true when it computed one (kept unless it is a
   * fallback), false when one was kept already or answers are not kept at all.
   */
  warm (userId: string, opts: RecommendOptions): boolean
  /** True when the model alone has a vector for this user (a dedicated row or hashed rows): no fallback needed. */
  hasSignal (userId: string): boolean
  forSession (query: SessionQuery, opts: RecommendOptions, context?: RealtimeContext): RecommendationResult
  similarItems (itemId: string, opts: RecommendOptions): RecommendationResult
  readonly stats: RecommenderStats
}

interface Query {
  source: QuerySource
  hasCode: boolean
  hasVector: boolean
}

/** The query's own items (a user's history and training items, a session's, a similar-items item): what explanations compare with. */
interface Basis {
  readonly rows: ArrayLike<number>
  readonly count: number
}
const NO_BASIS: Basis = { rows: [], count: 0 }

export function createRecommender (model: Model, engines: QueryEngines, options: RecommenderOptions = {}): Recommender {
  const d = model.dimension
  const bits = model.codeBits
  const words = model.codeWords
  const candidates = options.hybridCandidates ?? 200
  // Scratch reused by every query on this model: a reload builds a new recommender with its own.
  const vector = new Float32Array(d)
  const code = new Uint32Array(words)
  const projAcc = new Float32Array(bits)
  const bitCounts = new Int32Array(bits)
  const sessionRows = new Int32Array(MAX_SESSION_ITEMS)
  const foldScratch = createFoldInScratch(d)
  const folded = new FoldInCache(options.foldInCacheBytes ?? DEFAULT_FOLD_IN_CACHE_BYTES)
  // Ids without a dedicated row still get a vector from the shared rows of the user table.
  const hashedUsers = model.userTable.config.sharedRows > 0
  const answerBudget = options.resultCacheBytes ?? DEFAULT_RESULT_CACHE_BYTES
  const answers = new CheckedLru<RecommendationResult, readonly string[]>(answerBudget, IDS)
  // A user's training items plus history, deduplicated with a generation stamp per item row.
  const seen = model.userSeen
  let maxSeen = 0
  if (seen) for (let u = 0; u + 1 < seen.indptr.length; u++) maxSeen = Math.max(maxSeen, seen.indptr[u + 1] - seen.indptr[u])
  const userRows = new Int32Array(maxSeen + MAX_HISTORY_ITEMS)
  // A history's catalog rows before deduplication: up to maxSeen of them may repeat training items.
  const historyRows = new Int32Array(maxSeen + MAX_HISTORY_ITEMS)
  const stamps = new Uint32Array(model.items.size)
  let stamp = 0
  // Titles decode from the bundle bytes on first use and are cached by the model.
  const titles = model.itemMeta
  const popularRank = new Float32Array(model.items.size)
  for (let r = 0; r < model.popularItems.length; r++) popularRank[model.popularItems[r]] = r + 1
  const catalog = new CatalogView(model, options.rules ?? (() => undefined))
  const itemVectors = { itemVectors: model.itemVectors, itemNorms: model.itemNorms, dimension: d }
  // Pages of one ranking search at one breadth whatever their depth (ranking.ts).
  const pagedCandidates = Math.max(candidates, MAX_PAGED_DEPTH)
  const explainBasis = new Int32Array(EXPLAIN_MAX_ITEMS)

  // The route asks hasSignal (whether the fallback needs trending) and then forUser for the same
  // id: the last lookup is kept, so a request hashes and probes the id index once. The model never
  // changes, so a kept row is the index's answer.
  let warmed = 0
  let lastUserId: string | undefined
  let lastUserRow: number | undefined
  function userRowOf (userId: string): number | undefined {
    if (userId !== lastUserId) { lastUserRow = model.users.rowOf(userId); lastUserId = userId }
    return lastUserRow
  }

  function codeFromVector (): boolean {
    if (model.userCodeProjection === null) return false
    projectCode(vector, model.userCodeProjection, d, bits, projAcc, code)
    return true
  }

  function itemOf (row: number, score: number, rank: number, opts: RecommendOptions): RecommendedItem {
    const title = titles.title(row)
    const item: RecommendedItem = title === undefined ? { id: model.items.idAt(row), score, rank } : { id: model.items.idAt(row), score, rank, title }
    if (opts.withTags === true) item.tags = catalog.tagsOf(row) as string[]
    return item
  }

  function shape (top: TopK, opts: RecommendOptions, basis: Basis): RecommendedItem[] {
    const out: RecommendedItem[] = new Array(top.rows.length)
    const offset = opts.offset ?? 0
    for (let i = 0; i < top.rows.length; i++) out[i] = itemOf(top.rows[i], top.scores[i], offset + i + 1, opts)
    if (opts.explain === true) {
      const closest = closestBasisRows(itemVectors, top.rows, basis.rows, basis.count)
      for (let i = 0; i < out.length; i++) {
        if (closest[i] < 0) { out[i].reason = 'profile'; continue }
        const title = titles.title(closest[i])
        out[i].reason = 'similar'
        out[i].because = title === undefined ? { id: model.items.idAt(closest[i]) } : { id: model.items.idAt(closest[i]), title }
      }
    }
    return out
  }

  /** A user's history rows first, then training rows, up to EXPLAIN_MAX_ITEMS (only for explained answers). */
  function userBasis (opts: RecommendOptions, hist: Int32Array, h: number, rows: Int32Array, n: number): Basis {
    if (opts.explain !== true) return NO_BASIS
    let count = 0
    for (let i = 0; i < h && count < EXPLAIN_MAX_ITEMS; i++) explainBasis[count++] = hist[i]
    for (let i = 0; i < n && count < EXPLAIN_MAX_ITEMS; i++) explainBasis[count++] = rows[i]
    return { rows: explainBasis, count }
  }

  function nextStamp (): number {
    if (++stamp === 0xffffffff) { stamps.fill(0); stamp = 1 }
    return stamp
  }

  // The rows stamped with the current generation, as the engines' exclusion set: a user's seen
  // items (up to thousands) are excluded without building a Set per request. Measured in process
  // on models/default, all 610 users, k=10, per query: hybrid 85.8 -> 50.1 µs, hamming 25.6 ->
  // 12.8 µs, mips 128 -> 89 µs.
  // It lists its rows too (userRows[0, count), then the rows of the request's exclude ids), so the
  // linear scan can skip them inside the scan.
  const idRows: number[] = []
  const stamped = {
    gen: 0,
    size: 0,
    count: 0,
    has: (row: number): boolean => stamps[row] === stamped.gen,
    forEach (fn: (row: number) => void): void {
      for (let i = 0; i < stamped.count; i++) fn(userRows[i])
      for (let i = 0; i < idRows.length; i++) fn(idRows[i])
    },
  }

  /** Exclusion of the `count` rows already stamped `gen` (userRows[0, count)), plus the rows of `ids`. */
  function stampedExclusion (gen: number, count: number, ids: readonly string[] | undefined): ExcludeSet {
    idRows.length = 0
    if (ids) {
      for (const id of ids) {
        const row = model.items.rowOf(id)
        if (row !== undefined && stamps[row] !== gen) { stamps[row] = gen; idRows.push(row) }
      }
    }
    stamped.gen = gen
    stamped.count = count
    stamped.size = count + idRows.length
    return stamped
  }

  function popular (source: QuerySource, opts: RecommendOptions, exclude: ExcludeSet, trending: readonly TrendingEntry[] | undefined): RecommendationResult {
    const items: RecommendedItem[] = []
    const rows: number[] = []
    const filter = catalog.eligible(opts)
    // The list's pages are slices of it: the first `offset` eligible items are skipped.
    let skip = opts.offset ?? 0
    const push = (row: number, score: number, reason: 'trending' | 'popular'): void => {
      if (skip > 0) { skip--; return }
      const item = itemOf(row, score, (opts.offset ?? 0) + items.length + 1, opts)
      if (opts.explain === true) item.reason = reason
      items.push(item)
      rows.push(row)
    }
    const taken = nextStamp()
    const skips = (row: number): boolean => exclude.has(row) || stamps[row] === taken || (filter !== undefined && !filter.has(row))
    let fromTrending = 0
    if (trending !== undefined) {
      for (let i = 0; i < trending.length && items.length < opts.k; i++) {
        const row = model.items.rowOf(trending[i].itemId)
        // Trending ids come from events on any model version: keep the ones this catalog has.
        if (row === undefined || skips(row)) continue
        stamps[row] = taken
        push(row, trending[i].score, 'trending')
        fromTrending++
      }
    }
    const order = model.popularItems
    for (let r = 0; r < order.length && items.length < opts.k; r++) {
      const row = order[r]
      if (skips(row)) continue
      // Bundles carry an ordering, not comparable scores: 1 / popularity rank keeps "higher is
      // better". After trending items (decayed event weights, > 0) the padding scores 0.
      push(row, fromTrending > 0 ? 0 : 1 / popularRank[row], 'popular')
    }
    const result: RecommendationResult = { modelVersion: model.version, method: 'popular', requestedMethod: opts.method, fallback: fromTrending > 0 ? 'trending' : 'popular', source, candidatesExamined: 0, items }
    if (opts.measureDiversity === true) result.meanPairwiseSimilarity = meanPairwiseSimilarity(itemVectors, rows)
    return result
  }

  function run (q: Query, opts: RecommendOptions, exclude: ExcludeSet, basis: Basis = NO_BASIS): RecommendationResult {
    let method: SearchMethod = opts.method
    let note: string | undefined
    if (method !== 'mips' && !q.hasCode) {
      method = 'mips'
      note = 'no binary code for this query (the model has no user_code_projection): served by mips'
    } else if (method !== 'hamming' && !q.hasVector) {
      method = 'hamming'
      note = 'no vector for this query (a code only): served by hamming'
    }
    const boosted = catalog.boostedCount > 0
    const paged = opts.offset !== undefined
    const search: SearchOptions = {
      k: searchDepth(opts, boosted),
      exclude,
      filter: catalog.eligible(opts),
      ef: paged ? Math.max(opts.ef ?? MAX_PAGED_DEPTH, MAX_PAGED_DEPTH) : opts.ef,
      candidates: paged ? pagedCandidates : candidates,
      stable: paged,
    }
    const top = method === 'hamming'
      ? engines.hamming(code, search)
      : method === 'mips' ? engines.mips(vector, search) : engines.hybrid(code, vector, search)
    const page = rankPage(itemVectors, top, opts, boosted ? (row) => catalog.boostOf(row) : undefined)
    const result: RecommendationResult = {
      modelVersion: model.version,
      method,
      requestedMethod: opts.method,
      source: q.source,
      candidatesExamined: top.candidatesExamined,
      items: shape(page, opts, basis),
    }
    if (note !== undefined) result.methodNote = note
    if (opts.measureDiversity === true) result.meanPairwiseSimilarity = meanPairwiseSimilarity(itemVectors, page.rows)
    return result
  }

  /** The catalog rows of a history, in order (ids outside the catalog skipped), into historyRows; returns how many. */
  function historyRowsOf (history: readonly string[] | undefined): number {
    let h = 0
    if (history !== undefined) {
      for (let i = 0; i < history.length && h < historyRows.length; i++) {
        const row = model.items.rowOf(history[i])
        if (row !== undefined) historyRows[h++] = row
      }
    }
    return h
  }

  /** The user's answer from their training items and hist[0, h), their history's catalog rows. */
  function answerUser (userId: string, userRow: number | undefined, hist: Int32Array, h: number, opts: RecommendOptions, context: RealtimeContext): RecommendationResult {
    // The user's items: training interactions (dedicated users) then history, deduplicated.
    const gen = nextStamp()
    let n = 0
    if (userRow !== undefined && seen !== null) {
      for (let p = seen.indptr[userRow]; p < seen.indptr[userRow + 1]; p++) {
        const row = seen.items[p]
        if (stamps[row] !== gen) { stamps[row] = gen; userRows[n++] = row }
      }
    }
    let fresh = 0
    for (let i = 0; i < h && fresh < MAX_HISTORY_ITEMS; i++) {
      const row = hist[i]
      if (stamps[row] === gen) continue
      stamps[row] = gen
      userRows[n++] = row
      fresh++
    }
    const basis = userBasis(opts, hist, h, userRows, n)
    const exclude = context.excludeSeen === false ? excludeRows(model.items, opts.exclude) : stampedExclusion(gen, n, opts.exclude)
    // Fold-in only when the history adds items the model was not trained on: otherwise the
    // learned row already is the least-squares answer for these items (up to training noise).
    if (fresh > 0) {
      if (folded.get(userId, userRows, n, vector, code)) return run({ source: 'history', hasCode: true, hasVector: true }, opts, exclude, basis)
      if (foldInVector(model, userRows, n, vector, foldScratch)) {
        majorityCode(model.itemCodes, words, userRows, n, bitCounts, code)
        folded.put(userId, userRows, n, vector, code)
        return run({ source: 'history', hasCode: true, hasVector: true }, opts, exclude, basis)
      }
    }
    const resolution = model.userTable.resolveInto(userId, vector)
    if (resolution === 'none') return popular('none', opts, exclude, context.trending)
    let hasCode: boolean
    if (resolution === 'dedicated') {
      code.set(model.userCodes.subarray(userRow! * words, (userRow! + 1) * words))
      hasCode = true
    } else {
      hasCode = codeFromVector()
    }
    return run({ source: resolution, hasCode, hasVector: true }, opts, exclude, basis)
  }

  function forUser (userId: string, opts: RecommendOptions, context: RealtimeContext = NO_CONTEXT): RecommendationResult {
    catalog.sync()
    const userRow = userRowOf(userId)
    if (!answers.enabled) return answerUser(userId, userRow, historyRows, historyRowsOf(context.history), opts, context)
    // With the user id (which fixes the training items) and the request, the history's ids in
    // order are all an answer depends on: a kept answer is checked against them alone, with no
    // lookup in the id index and no walk over the training items (thousands for heavy users).
    const history = context.history ?? NO_HISTORY
    // A user the model has no vector for and whose history holds no catalog item gets the
    // popularity fallback: the same answer for every such user, which without trending items
    // depends on the request alone, so one kept answer serves them all. Trending items change
    // with everybody's events: such answers are not kept.
    // The history's catalog rows (in historyRows) once counted; a miss needs them, a hit does not.
    let h = -1
    const noSignal = userRow === undefined && !hashedUsers && (history.length === 0 || (h = historyRowsOf(history)) === 0)
    const trending = context.trending !== undefined && context.trending.length > 0
    if (noSignal && trending) return answerUser(userId, userRow, historyRows, 0, opts, context)
    const key = resultKey(noSignal ? 'p' : 'u', noSignal ? '' : userId, opts, context.excludeSeen !== false)
    const inputs = noSignal ? NO_HISTORY : history
    // A kept answer is stale once a catalog rule changed since it was computed (the view's epoch).
    const kept = answers.get(key, inputs, catalog.epoch)
    if (kept !== undefined) return kept
    const result = answerUser(userId, userRow, historyRows, noSignal ? 0 : h >= 0 ? h : historyRowsOf(history), opts, context)
    // A fallback for a user with signal (a degenerate fold-in) is not kept either.
    if (result.method === 'popular' && !noSignal) return result
    const toKeep = keepAnswer(result)
    answers.put(key, inputs, toKeep.answer, toKeep.bytes, catalog.epoch)
    return result
  }

  return {
    model,
    engines,
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

    hasSignal (userId) {
      return userRowOf(userId) !== undefined || hashedUsers
    },

    forUser,

    warm (userId, opts) {
      const before = answers.misses
      forUser(userId, opts, WARM_CONTEXT)
      const computed = answers.misses - before
      warmed += computed
      return computed > 0
    },

    forSession (query, opts, context = NO_CONTEXT) {
      catalog.sync()
      if ('itemIds' in query) {
        // Fold-in (documented in openapi.yaml): the least-squares iALS user step over the catalog
        // items (src/realtime/fold-in.ts) and the bitwise majority of their codes; ids outside the
        // catalog carry no code and are skipped. Least squares over the mean: recall@20 of a held-out
        // half of each user's items 0.503 against 0.345, ~0.6 ms per session (d = 64, MovieLens;
        // bench/realtime/session-fold-in.ts). The mean remains for a degenerate (singular) model.
        let n = 0
        for (const id of query.itemIds) {
          const row = model.items.rowOf(id)
          if (row !== undefined && n < MAX_SESSION_ITEMS) sessionRows[n++] = row
        }
        const exclude = excludeRows(model.items, opts.exclude, sessionRows, n)
        if (n === 0) return popular('fold-in', opts, exclude, context.trending)
        if (!foldInVector(model, sessionRows, n, vector, foldScratch)) {
          vector.fill(0)
          const iv = model.itemVectors
          for (let r = 0; r < n; r++) {
            const base = sessionRows[r] * d
            for (let j = 0; j < d; j++) vector[j] += iv[base + j]
          }
          for (let j = 0; j < d; j++) vector[j] /= n
        }
        majorityCode(model.itemCodes, words, sessionRows, n, bitCounts, code)
        return run({ source: 'fold-in', hasCode: true, hasVector: true }, opts, exclude, { rows: sessionRows, count: n })
      }
      const exclude = excludeRows(model.items, opts.exclude)
      if ('vector' in query) {
        if (query.vector.length !== d) throw new IncompatibleQueryError('vector', `vector has ${query.vector.length} components, the model's dimension is ${d}`)
        for (let j = 0; j < d; j++) vector[j] = query.vector[j]
        return run({ source: 'vector', hasCode: codeFromVector(), hasVector: true }, opts, exclude)
      }
      if (!parseHexCode(query.code, bits, code)) {
        throw new IncompatibleQueryError('code', `code must be ${bits / 4} hex digits (${bits} bits, bundle byte order), got ${query.code.length}`)
      }
      return run({ source: 'code', hasCode: true, hasVector: false }, opts, exclude)
    },

    similarItems (itemId, opts) {
      const row = model.items.rowOf(itemId)
      if (row === undefined) throw new UnknownItemError(itemId)
      catalog.sync()
      const key = answers.enabled ? resultKey('i', itemId, opts, true) : ''
      if (key !== '') {
        const kept = answers.get(key, NO_HISTORY, catalog.epoch)
        if (kept !== undefined) return kept
      }
      vector.set(model.itemVectors.subarray(row * d, (row + 1) * d))
      code.set(model.itemCodes.subarray(row * words, (row + 1) * words))
      sessionRows[0] = row
      const exclude = excludeRows(model.items, opts.exclude, sessionRows, 1)
      const result = run({ source: 'item', hasCode: true, hasVector: true }, opts, exclude, { rows: sessionRows, count: 1 })
      if (key === '') return result
      const toKeep = keepAnswer(result)
      answers.put(key, NO_HISTORY, toKeep.answer, toKeep.bytes, catalog.epoch)
      return result
    },
  }
}
