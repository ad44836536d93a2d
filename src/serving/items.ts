/**
 * An item as the active catalog sees it (GET and PATCH /v1/items/{itemId}): its availability,
 * effective and model tags, boost and the catalog rule in force (src/catalog, src/state/item-rules.ts).
 */
import type { AnswerFacts } from '../recommend/answer-form.js'
import { UnknownItemError } from '../recommend/errors.js'
import type { Recommender } from '../recommend/recommender.js'
import type { ItemRule } from '../state/item-rules.js'

export interface ItemView {
  readonly id: string
  readonly title?: string
  readonly available: boolean
  readonly tags: string[]
  readonly modelTags: string[]
  readonly boost: number
  readonly rule: ItemRule | null
}

/** The item's row in `rec`'s catalog; UnknownItemError (404) for an id outside it. */
export function itemRow<A extends AnswerFacts> (rec: Recommender<A>, itemId: string): number {
  const row = rec.model.items.rowOf(itemId)
  if (row === undefined) throw new UnknownItemError(itemId)
  return row
}

export function itemView<A extends AnswerFacts> (rec: Recommender<A>, itemId: string): ItemView {
  const row = itemRow(rec, itemId)
  rec.catalog.sync()
  const state = rec.catalog.item(row)
  const title = rec.model.itemMeta.title(row)
  const view = { id: itemId, available: state.available, tags: [...state.tags], modelTags: [...state.modelTags], boost: state.boost, rule: state.rule }
  return title === undefined ? view : { ...view, title }
}
