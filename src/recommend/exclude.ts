import type { ExcludeSet } from '../search/types.js'
import type { IdIndex } from '../model-loader/id-index.js'

const EMPTY: ExcludeSet = { has: () => false, size: 0 }

/** Item rows to skip, from external ids (unknown ids dropped) plus extra rows. */
export function excludeRows (items: IdIndex, ids: readonly string[] | undefined, extraRows?: ArrayLike<number>, extraCount = 0): ExcludeSet {
  const n = (ids?.length ?? 0) + extraCount
  if (n === 0) return EMPTY
  const set = new Set<number>()
  if (ids) {
    for (const id of ids) {
      const row = items.rowOf(id)
      if (row !== undefined) set.add(row)
    }
  }
  for (let i = 0; i < extraCount; i++) set.add(extraRows![i])
  return set
}
