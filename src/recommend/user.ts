/**
 * A user's answer: their items (training interactions, then recent history) excluded, a history
 * with items beyond the training data folded in (the solve kept in the fold-in cache), else the
 * learned row or the hashed tail, else the fallback.
 */
import { MAX_FOLD_IN_TRAINING_ITEMS, MAX_HISTORY_LENGTH } from '../defaults.js'
import type { Model } from '../model-loader/model.js'
import type { ExcludeSet } from '../search/types.js'
import { excludeRows, type SeenRows } from './exclusion.js'
import type { Fallback } from './fallback.js'
import type { FoldInCache } from './fold-in-cache.js'
import type { Basis, Listing } from './listing.js'
import type { Query } from './query.js'
import { searchAnswer } from './search-answer.js'
import type { RealtimeContext, RecommendationResult, RecommenderEngines, RecommendOptions } from './types.js'

/** A user as the model sees them, looked up once per request. */
export interface UserLookup {
  readonly id: string
  /** Their dedicated row, when they have one. */
  readonly row: number | undefined
  /**
   * The fallback (trending, else popular) is their answer: the model has no vector for them (no
   * dedicated row, no shared rows for other ids) and their history holds no catalog item. The one
   * place this is decided: the serving layer reads trending items for these users only.
   */
  readonly fallback: boolean
}

export class UserAnswers {
  /** A history's catalog rows in order, before deduplication against the training items. */
  readonly historyRows: Int32Array
  /** Ids without a dedicated row still get a vector from the shared rows of the user table. */
  private readonly hashedUsers: boolean
  /** The bundle stores no user vectors: a listed user's is the fold-in of their training items. */
  private readonly solvedUsers: boolean

  constructor (
    private readonly model: Model,
    private readonly engines: RecommenderEngines,
    private readonly query: Query,
    private readonly seen: SeenRows,
    private readonly fallback: Fallback,
    private readonly folded: FoldInCache,
    private readonly listing: Listing,
  ) {
    this.hashedUsers = model.userTable.config.sharedRows > 0
    this.solvedUsers = model.manifest.tables.user.vectors === 'solved'
    this.historyRows = new Int32Array(seen.rows.length)
  }

  /** Rows a user's items can take: their most training interactions plus a full history. */
  static capacity (model: Model): number {
    const seen = model.userSeen
    let maxSeen = 0
    if (seen) for (let u = 0; u + 1 < seen.indptr.length; u++) maxSeen = Math.max(maxSeen, seen.indptr[u + 1] - seen.indptr[u])
    return maxSeen + MAX_HISTORY_LENGTH
  }

  /** True when the model alone has a vector for this user (a dedicated row or hashed rows). */
  hasSignal (userId: string): boolean {
    return this.hashedUsers || this.model.users.rowOf(userId) !== undefined
  }

  lookUp (userId: string, history: readonly string[]): UserLookup {
    const row = this.model.users.rowOf(userId)
    return { id: userId, row, fallback: row === undefined && !this.hashedUsers && this.catalogRows(history) === 0 }
  }

  /** The catalog rows of a history, in order (ids outside the catalog skipped), into historyRows; returns how many. */
  catalogRows (history: readonly string[] | undefined): number {
    let h = 0
    if (history !== undefined) {
      const rows = this.historyRows
      for (let i = 0; i < history.length && h < rows.length; i++) {
        const row = this.model.items.rowOf(history[i])
        if (row !== undefined) rows[h++] = row
      }
    }
    return h
  }

  /** The user's answer from their training items and historyRows[0, h), their history's catalog rows. */
  answer (user: UserLookup, h: number, opts: RecommendOptions, context: RealtimeContext): RecommendationResult {
    const { model, seen, query } = this
    const gen = seen.next()
    const rows = seen.rows
    let n = 0
    const training = model.userSeen
    if (user.row !== undefined && training !== null) {
      for (let p = training.indptr[user.row]; p < training.indptr[user.row + 1]; p++) {
        const row = training.items[p]
        if (seen.mark(row, gen)) rows[n++] = row
      }
    }
    const trainingRows = n
    let fresh = 0
    for (let i = 0; i < h && fresh < MAX_HISTORY_LENGTH; i++) {
      const row = this.historyRows[i]
      if (!seen.mark(row, gen)) continue
      rows[n++] = row
      fresh++
    }
    const exclude = context.excludeSeen === false ? excludeRows(model.items, opts.exclude) : seen.exclusion(gen, n, opts.exclude, model.items)
    const basis = this.listing.userBasis(opts, this.historyRows, h, rows, n)
    // Fold-in when the history adds items the model was not trained on (otherwise a learned row
    // already is the least-squares answer for these items, up to training noise), or when the
    // bundle stores no user vectors. Over the last MAX_FOLD_IN_TRAINING_ITEMS training items only.
    const solved = this.solvedUsers && user.row !== undefined
    if (fresh > 0 || solved) {
      const source = fresh > 0 ? 'history' : 'solved'
      const from = Math.max(0, trainingRows - MAX_FOLD_IN_TRAINING_ITEMS)
      const folded = rows.subarray(from, n)
      if (this.folded.get(user.id, folded, n - from, query.vector, query.code)) return this.search(query.restored(source), opts, exclude, basis)
      if (query.fromFoldIn(folded, n - from, source)) {
        // Without fresh history the learned code still describes these very items.
        if (source === 'solved') query.storedCode(user.row!)
        this.folded.put(user.id, folded, n - from, query.vector, query.code)
        return this.search(query, opts, exclude, basis)
      }
    }
    const q = query.fromUser(user.id, user.row)
    if (q === null) return this.fallback.answer('none', opts, exclude, context.trending)
    return this.search(q, opts, exclude, basis)
  }

  private search (q: Query, opts: RecommendOptions, exclude: ExcludeSet, basis: Basis): RecommendationResult {
    return searchAnswer(this.model, this.engines, q, opts, exclude, this.listing, basis)
  }
}
