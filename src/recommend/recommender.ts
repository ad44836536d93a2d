/**
 * The domain layer between the HTTP routes and the retrieval engines: turns a user id, an item id
 * or a session into a query (code and/or vector), picks the method the query supports, falls back
 * to popular items when there is no signal, and shapes ranked rows into items. Synchronous, so the
 * per-model scratch buffers below are never shared between two requests in flight.
 */
import type { Model } from '../model-loader/model.js'
import type { ExcludeSet, SearchMethod, SearchOptions, TopK } from '../search/types.js'
import { majorityCode, parseHexCode, projectCode } from './codes.js'
import { IncompatibleQueryError, UnknownItemError } from './errors.js'
import { excludeRows } from './exclude.js'
import type { QueryEngines, QuerySource, RecommendationResult, RecommendedItem, RecommendOptions, SessionQuery } from './types.js'

/** Most item ids a session query may carry (the HTTP schema enforces the same bound). */
export const MAX_SESSION_ITEMS = 1000

export interface RecommenderOptions {
  /** Hybrid: Hamming candidates re-ranked by inner product. */
  readonly hybridCandidates?: number
}

export interface Recommender {
  readonly model: Model
  readonly engines: QueryEngines
  forUser (userId: string, opts: RecommendOptions): RecommendationResult
  forSession (query: SessionQuery, opts: RecommendOptions): RecommendationResult
  similarItems (itemId: string, opts: RecommendOptions): RecommendationResult
}

interface Query {
  source: QuerySource
  hasCode: boolean
  hasVector: boolean
}

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
  // Titles decode from the bundle bytes on first use and are cached by the model.
  const titles = model.itemMeta
  const popularRank = new Float32Array(model.items.size)
  for (let r = 0; r < model.popularItems.length; r++) popularRank[model.popularItems[r]] = r + 1

  function codeFromVector (): boolean {
    if (model.userCodeProjection === null) return false
    projectCode(vector, model.userCodeProjection, d, bits, projAcc, code)
    return true
  }

  function shape (top: TopK): RecommendedItem[] {
    const out: RecommendedItem[] = new Array(top.rows.length)
    for (let i = 0; i < top.rows.length; i++) {
      const row = top.rows[i]
      const title = titles.title(row)
      out[i] = title === undefined
        ? { id: model.items.idAt(row), score: top.scores[i], rank: i + 1 }
        : { id: model.items.idAt(row), score: top.scores[i], rank: i + 1, title }
    }
    return out
  }

  function popular (source: QuerySource, opts: RecommendOptions, exclude: ExcludeSet): RecommendationResult {
    const items: RecommendedItem[] = []
    const order = model.popularItems
    for (let r = 0; r < order.length && items.length < opts.k; r++) {
      const row = order[r]
      if (exclude.has(row)) continue
      const title = titles.title(row)
      // Bundles carry an ordering, not comparable scores: 1 / popularity rank keeps "higher is better".
      const score = 1 / popularRank[row]
      items.push(title === undefined ? { id: model.items.idAt(row), score, rank: items.length + 1 } : { id: model.items.idAt(row), score, rank: items.length + 1, title })
    }
    return { modelVersion: model.version, method: 'popular', requestedMethod: opts.method, fallback: 'popular', source, candidatesExamined: 0, items }
  }

  function run (q: Query, opts: RecommendOptions, exclude: ExcludeSet): RecommendationResult {
    let method: SearchMethod = opts.method
    let note: string | undefined
    if (method !== 'mips' && !q.hasCode) {
      method = 'mips'
      note = 'no binary code for this query (the model has no user_code_projection): served by mips'
    } else if (method !== 'hamming' && !q.hasVector) {
      method = 'hamming'
      note = 'no vector for this query (a code only): served by hamming'
    }
    const search: SearchOptions = { k: opts.k, exclude, ef: opts.ef, candidates }
    const top = method === 'hamming'
      ? engines.hamming(code, search)
      : method === 'mips' ? engines.mips(vector, search) : engines.hybrid(code, vector, search)
    const result: RecommendationResult = {
      modelVersion: model.version,
      method,
      requestedMethod: opts.method,
      source: q.source,
      candidatesExamined: top.candidatesExamined,
      items: shape(top),
    }
    if (note !== undefined) result.methodNote = note
    return result
  }

  return {
    model,
    engines,

    forUser (userId, opts) {
      const resolution = model.userTable.resolveInto(userId, vector)
      const exclude = excludeRows(model.items, opts.exclude)
      if (resolution === 'none') return popular('none', opts, exclude)
      let hasCode: boolean
      if (resolution === 'dedicated') {
        const row = model.users.rowOf(userId)!
        code.set(model.userCodes.subarray(row * words, (row + 1) * words))
        hasCode = true
      } else {
        hasCode = codeFromVector()
      }
      return run({ source: resolution, hasCode, hasVector: true }, opts, exclude)
    },

    forSession (query, opts) {
      if ('itemIds' in query) {
        // Fold-in (documented in openapi.yaml): the mean of the catalog items' vectors and the
        // bitwise majority of their codes; ids outside the catalog carry no code and are skipped.
        let n = 0
        for (const id of query.itemIds) {
          const row = model.items.rowOf(id)
          if (row !== undefined && n < MAX_SESSION_ITEMS) sessionRows[n++] = row
        }
        const exclude = excludeRows(model.items, opts.exclude, sessionRows, n)
        if (n === 0) return popular('fold-in', opts, exclude)
        vector.fill(0)
        const iv = model.itemVectors
        for (let r = 0; r < n; r++) {
          const base = sessionRows[r] * d
          for (let j = 0; j < d; j++) vector[j] += iv[base + j]
        }
        for (let j = 0; j < d; j++) vector[j] /= n
        majorityCode(model.itemCodes, words, sessionRows, n, bitCounts, code)
        return run({ source: 'fold-in', hasCode: true, hasVector: true }, opts, exclude)
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
      vector.set(model.itemVectors.subarray(row * d, (row + 1) * d))
      code.set(model.itemCodes.subarray(row * words, (row + 1) * words))
      sessionRows[0] = row
      const exclude = excludeRows(model.items, opts.exclude, sessionRows, 1)
      return run({ source: 'item', hasCode: true, hasVector: true }, opts, exclude)
    },
  }
}
