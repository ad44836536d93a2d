/**
 * The answer for a query the model has no signal for: trending items (real-time event counts),
 * then the bundle's popularity order, leaving out what the query excludes and what its filters
 * and the catalog rules do not pass; a page of it when the request pages.
 */
import type { Model } from '../model-loader/model.js'
import type { ExcludeSet } from '../search/types.js'
import type { TrendingItem } from '../state/types.js'
import type { SeenRows } from './exclusion.js'
import type { Listing } from './listing.js'
import type { QuerySource, RecommendationResult, RecommendedItem, RecommendOptions } from './types.js'

export class Fallback {
  /** 1-based popularity rank of each item row (0 for items the order leaves out). */
  private readonly popularRank: Float32Array

  constructor (private readonly model: Model, private readonly taken: SeenRows, private readonly listing: Listing) {
    this.popularRank = new Float32Array(model.items.size)
    for (let r = 0; r < model.popularItems.length; r++) this.popularRank[model.popularItems[r]] = r + 1
  }

  answer (source: QuerySource, opts: RecommendOptions, exclude: ExcludeSet, trending: readonly TrendingItem[] | undefined): RecommendationResult {
    const { model, taken, listing } = this
    const items: RecommendedItem[] = []
    const rows: number[] = []
    const filter = listing.catalog.eligible(opts)
    const offset = opts.offset ?? 0
    // The list's pages are slices of it: the first `offset` eligible items are passed over.
    let passed = 0
    const take = (row: number, score: number, reason: 'trending' | 'popular'): void => {
      if (passed++ < offset) return
      const item = listing.item(row, score, offset + items.length + 1, opts)
      if (opts.explain === true) item.reason = reason
      items.push(item)
      rows.push(row)
    }
    const gen = taken.next()
    const skip = (row: number): boolean => exclude.has(row) || (filter !== undefined && !filter.has(row)) || !taken.mark(row, gen)
    let fromTrending = 0
    if (trending !== undefined) {
      for (let i = 0; i < trending.length && items.length < opts.k; i++) {
        const row = model.items.rowOf(trending[i].itemId)
        // Trending ids come from events on any model version: keep the ones this catalog has.
        if (row === undefined || skip(row)) continue
        take(row, trending[i].score, 'trending')
        fromTrending++
      }
    }
    const order = model.popularItems
    for (let r = 0; r < order.length && items.length < opts.k; r++) {
      const row = order[r]
      if (skip(row)) continue
      // Bundles carry an ordering, not comparable scores: 1 / popularity rank keeps "higher is
      // better". After trending items (decayed event weights, > 0) the padding scores 0.
      take(row, fromTrending > 0 ? 0 : 1 / this.popularRank[row], 'popular')
    }
    const result: RecommendationResult = { modelVersion: model.version, method: 'popular', requestedMethod: opts.method, fallback: fromTrending > 0 ? 'trending' : 'popular', source, candidatesExamined: 0, items }
    return listing.measure(result, rows, opts)
  }
}
