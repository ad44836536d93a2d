/**
 * The answer for a query the model has no signal for: trending items (real-time event counts),
 * then the bundle's popularity order, leaving out what the query excludes.
 */
import type { Model } from '../model-loader/model.js'
import type { ExcludeSet } from '../search/types.js'
import type { TrendingItem } from '../state/types.js'
import type { SeenRows } from './exclusion.js'
import { itemAt } from './search-answer.js'
import type { QuerySource, RecommendationResult, RecommendedItem, RecommendOptions } from './types.js'

export class Fallback {
  /** 1-based popularity rank of each item row (0 for items the order leaves out). */
  private readonly popularRank: Float32Array

  constructor (private readonly model: Model, private readonly taken: SeenRows) {
    this.popularRank = new Float32Array(model.items.size)
    for (let r = 0; r < model.popularItems.length; r++) this.popularRank[model.popularItems[r]] = r + 1
  }

  answer (source: QuerySource, opts: RecommendOptions, exclude: ExcludeSet, trending: readonly TrendingItem[] | undefined): RecommendationResult {
    const { model, taken } = this
    const items: RecommendedItem[] = []
    const gen = taken.next()
    if (trending !== undefined) {
      for (let i = 0; i < trending.length && items.length < opts.k; i++) {
        const row = model.items.rowOf(trending[i].itemId)
        // Trending ids come from events on any model version: keep the ones this catalog has.
        if (row === undefined || exclude.has(row) || !taken.mark(row, gen)) continue
        items.push(itemAt(model, row, trending[i].score, items.length + 1))
      }
    }
    const fromTrending = items.length
    const order = model.popularItems
    for (let r = 0; r < order.length && items.length < opts.k; r++) {
      const row = order[r]
      if (exclude.has(row) || !taken.mark(row, gen)) continue
      // Bundles carry an ordering, not comparable scores: 1 / popularity rank keeps "higher is
      // better". After trending items (decayed event weights, > 0) the padding scores 0.
      items.push(itemAt(model, row, fromTrending > 0 ? 0 : 1 / this.popularRank[row], items.length + 1))
    }
    return { modelVersion: model.version, method: 'popular', requestedMethod: opts.method, fallback: fromTrending > 0 ? 'trending' : 'popular', source, candidatesExamined: 0, items }
  }
}
