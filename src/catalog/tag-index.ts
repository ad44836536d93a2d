/**
 * The model's own item tags as postings (tag -> item rows ascending), built once per model: a
 * tag filter is then a union of a few postings instead of a pass over every item's tags, which
 * the bundle keeps as JSON text (id-index.ts decodes one item's tags per call).
 */
import type { Model } from '../model-loader/model.js'

export interface TagIndex {
  /** Rows carrying `tag` among the model's own tags, ascending; empty for an unknown tag. */
  rows (tag: string): Int32Array
  /** The model's own tags of one item (empty when it has none). */
  tagsOf (row: number): readonly string[]
  /** Every tag with its item count, most items first (the demo page's choices). */
  readonly counts: ReadonlyArray<readonly [string, number]>
}

const NONE = new Int32Array(0)
const NO_TAGS: readonly string[] = Object.freeze([])

export function buildTagIndex (model: Pick<Model, 'items' | 'itemMeta'>): TagIndex {
  const lists = new Map<string, number[]>()
  const byRow: Array<readonly string[] | undefined> = new Array(model.items.size)
  for (let row = 0; row < model.items.size; row++) {
    const tags = model.itemMeta.tags(row)
    if (tags === undefined || tags.length === 0) continue
    const unique = Object.freeze([...new Set(tags)])
    byRow[row] = unique
    for (const tag of unique) {
      let rows = lists.get(tag)
      if (rows === undefined) lists.set(tag, rows = [])
      rows.push(row)
    }
  }
  const postings = new Map<string, Int32Array>()
  for (const [tag, rows] of lists) postings.set(tag, Int32Array.from(rows))
  const counts = [...postings].map(([tag, rows]) => [tag, rows.length] as const).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  return {
    rows: (tag) => postings.get(tag) ?? NONE,
    tagsOf: (row) => byRow[row] ?? NO_TAGS,
    counts,
  }
}
