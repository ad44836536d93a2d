/**
 * What a request's listing options need of one model: the catalog view (rules and filters,
 * src/catalog), the search options that apply them inside the engines, the final ranking (boosts,
 * diversity, the page: ranking.ts) and the items as the answer shows them (titles, tags,
 * explanations, the diversity measure). One per recommender; synchronous, like its scratch.
 */
import { CatalogView } from '../catalog/catalog-view.js'
import type { Model } from '../model-loader/model.js'
import type { ExcludeSet, SearchOptions, TopK } from '../search/types.js'
import type { RuleBook } from '../state/item-rules.js'
import { closestBasisRows, EXPLAIN_MAX_ITEMS } from './explain.js'
import { meanPairwiseSimilarity, type ItemVectors } from './item-similarity.js'
import { MAX_PAGED_DEPTH, rankPage, searchDepth } from './ranking.js'
import type { RecommendationResult, RecommendedItem, RecommendOptions } from './types.js'

/** The query's own items (a user's history and training items, a session's, a similar-items item): what explanations compare with. */
export interface Basis {
  readonly rows: ArrayLike<number>
  readonly count: number
}
export const NO_BASIS: Basis = { rows: [], count: 0 }

export class Listing {
  readonly catalog: CatalogView
  private readonly vectors: ItemVectors
  private readonly pagedCandidates: number
  private readonly basisRows = new Int32Array(EXPLAIN_MAX_ITEMS)

  constructor (private readonly model: Model, rules: RuleBook | (() => RuleBook | undefined), private readonly candidates: number) {
    this.catalog = new CatalogView(model, rules)
    this.vectors = { itemVectors: model.itemVectors, itemNorms: model.itemNorms, dimension: model.dimension }
    // Pages of one ranking search at one breadth whatever their depth (ranking.ts).
    this.pagedCandidates = Math.max(candidates, MAX_PAGED_DEPTH)
  }

  /** The engines' options for a request: its eligible rows, its depth, and a stable breadth when it pages. */
  searchOptions (opts: RecommendOptions, exclude: ExcludeSet): SearchOptions {
    const paged = opts.offset !== undefined
    return {
      k: searchDepth(opts, this.catalog.boostedCount > 0),
      exclude,
      filter: this.catalog.eligible(opts),
      ef: paged ? Math.max(opts.ef ?? MAX_PAGED_DEPTH, MAX_PAGED_DEPTH) : opts.ef,
      candidates: paged ? this.pagedCandidates : this.candidates,
      beam: opts.beam,
      stable: paged,
    }
  }

  /** The requested page of the final ranking of the engines' `top`. */
  page (top: TopK, opts: RecommendOptions): TopK {
    const catalog = this.catalog
    return rankPage(this.vectors, top, opts, catalog.boostedCount > 0 ? (row) => catalog.boostOf(row) : undefined)
  }

  /** The item of `row` at `rank` (1-based), with its title when the bundle has one and its tags when asked. */
  item (row: number, score: number, rank: number, opts: RecommendOptions): RecommendedItem {
    const title = this.model.itemMeta.title(row)
    const item: RecommendedItem = title === undefined ? { id: this.model.items.idAt(row), score, rank } : { id: this.model.items.idAt(row), score, rank, title }
    if (opts.withTags === true) item.tags = this.catalog.tagsOf(row) as string[]
    return item
  }

  /** A page's items, ranked from offset + 1, explained by the closest basis item when asked. */
  items (page: TopK, opts: RecommendOptions, basis: Basis): RecommendedItem[] {
    const out: RecommendedItem[] = new Array(page.rows.length)
    const offset = opts.offset ?? 0
    for (let i = 0; i < page.rows.length; i++) out[i] = this.item(page.rows[i], page.scores[i], offset + i + 1, opts)
    if (opts.explain !== true) return out
    const closest = closestBasisRows(this.vectors, page.rows, basis.rows, basis.count)
    for (let i = 0; i < out.length; i++) {
      if (closest[i] < 0) { out[i].reason = 'profile'; continue }
      const title = this.model.itemMeta.title(closest[i])
      out[i].reason = 'similar'
      out[i].because = title === undefined ? { id: this.model.items.idAt(closest[i]) } : { id: this.model.items.idAt(closest[i]), title }
    }
    return out
  }

  /** Adds the answer's mean pairwise similarity when asked. */
  measure (result: RecommendationResult, rows: ArrayLike<number>, opts: RecommendOptions): RecommendationResult {
    if (opts.measureDiversity === true) result.meanPairwiseSimilarity = meanPairwiseSimilarity(this.vectors, rows)
    return result
  }

  /** A user's history rows first, then training rows, up to EXPLAIN_MAX_ITEMS (only for explained answers). */
  userBasis (opts: RecommendOptions, history: Int32Array, h: number, rows: Int32Array, n: number): Basis {
    if (opts.explain !== true) return NO_BASIS
    let count = 0
    for (let i = 0; i < h && count < EXPLAIN_MAX_ITEMS; i++) this.basisRows[count++] = history[i]
    for (let i = 0; i < n && count < EXPLAIN_MAX_ITEMS; i++) this.basisRows[count++] = rows[i]
    return { rows: this.basisRows, count }
  }
}
