/**
 * Answers for a query that is not a known user: a session's recent item ids (fold-in), a raw
 * vector, or a hex code. Never kept by the result cache: a session is its request alone.
 */
import { MAX_LIST_IDS } from '../defaults.js'
import type { Model } from '../model-loader/model.js'
import { IncompatibleQueryError } from './errors.js'
import { excludeRows } from './exclusion.js'
import type { Fallback } from './fallback.js'
import type { Listing } from './listing.js'
import type { Query } from './query.js'
import { searchAnswer } from './search-answer.js'
import type { RealtimeContext, RecommendationResult, RecommenderEngines, RecommendOptions, SessionQuery } from './types.js'

export class SessionAnswers {
  /** The catalog rows of a session's item ids (the HTTP schema bounds their number by the same limit). */
  private readonly rows = new Int32Array(MAX_LIST_IDS)

  constructor (
    private readonly model: Model,
    private readonly engines: RecommenderEngines,
    private readonly query: Query,
    private readonly fallback: Fallback,
    private readonly listing: Listing,
  ) {}

  answer (session: SessionQuery, opts: RecommendOptions, context: RealtimeContext): RecommendationResult {
    if ('itemIds' in session) return this.foldIn(session.itemIds, opts, context)
    const { model, query } = this
    const exclude = excludeRows(model.items, opts.exclude)
    if ('vector' in session) {
      if (session.vector.length !== model.dimension) throw new IncompatibleQueryError('vector', `vector has ${session.vector.length} components, the model's dimension is ${model.dimension}`)
      return searchAnswer(model, this.engines, query.fromVector(session.vector), opts, exclude, this.listing)
    }
    if (!query.fromCode(session.code)) {
      throw new IncompatibleQueryError('code', `code must be ${model.codeBits / 4} hex digits (${model.codeBits} bits, bundle byte order), got ${session.code.length}`)
    }
    return searchAnswer(model, this.engines, query, opts, exclude, this.listing)
  }

  /**
   * Fold-in (documented in openapi.yaml): the least-squares iALS user step over the catalog items
   * (src/realtime/fold-in.ts) and the bitwise majority of their codes; ids outside the catalog carry
   * no code and are skipped, and the session's items are excluded. Least squares over the mean:
   * recall@20 of a held-out half of each user's items 0.503 against 0.345, ~0.6 ms per session
   * (d = 64, MovieLens; bench/realtime/session-fold-in.ts). The mean remains for a degenerate
   * (singular) model; a session without catalog items gets the fallback.
   */
  private foldIn (itemIds: readonly string[], opts: RecommendOptions, context: RealtimeContext): RecommendationResult {
    const { model, query, rows } = this
    let n = 0
    for (const id of itemIds) {
      const row = model.items.rowOf(id)
      if (row !== undefined && n < rows.length) rows[n++] = row
    }
    const exclude = excludeRows(model.items, opts.exclude, rows, n)
    if (n === 0) return this.fallback.answer('fold-in', opts, exclude, context.trending)
    if (!query.fromFoldIn(rows, n, 'fold-in')) query.fromMean(rows, n)
    return searchAnswer(model, this.engines, query, opts, exclude, this.listing, { rows, count: n })
  }
}
