/**
 * The byte budget of a served model: everything that produces user and item vectors (dedicated and
 * shared table rows at the stored dtype, id-to-row mapping arrays), as a share of float32 tables
 * with a row for every user and item, (users + items) x dimension x 4 bytes. Binary codes, seen
 * items and the catalog are shipped by every variant alike and are not counted.
 */
import { U16_MAPPING_MAX_ROWS } from '../bundle-format/tensors.js'
import type { EmbeddingDtype, MappingKind, UserVectors } from './variant-config.js'

/** The budgets the report's frontier tries, largest first, and `--budget auto` chooses among. */
export const FRONTIER_BUDGETS = [1, 0.5, 0.25, 0.15, 0.1, 0.05] as const

/** `--budget auto`: the smallest budget whose Recall@20 is within this share of the full model's. */
export const AUTO_BUDGET_TOLERANCE = 0.02

export function fullTableBytes (users: number, items: number, dimension: number): number {
  return (users + items) * dimension * 4
}

/** Stored bytes of one table row: int8 rows carry a float32 scale (docs/model-bundle.md, I8 tables). */
export function rowBytes (dtype: EmbeddingDtype, width: number): number {
  return dtype === 'I8' ? width + 4 : dtype === 'F16' ? 2 * width : 4 * width
}

/** Bytes of an id-to-row mapping array: one row index per id and column, U16 when the table has at most 65,535 rows. */
export function mappingBytes (kind: MappingKind, ids: number, columns: number, tableRows: number): number {
  return kind === 'hash' ? 0 : ids * columns * (tableRows <= U16_MAPPING_MAX_ROWS ? 2 : 4)
}

export interface RowPlan {
  /** Rows of the user table (0 when users are solved at serving time). */
  readonly userRows: number
  /** Rows of the item table (items when every item keeps its own row). */
  readonly itemRows: number
  /** The item table is a plain row per item: no mapping, no hashing. */
  readonly itemsFull: boolean
  readonly usersFull: boolean
}

/**
 * Rows each table gets for a budget. Solved users cost nothing, so the item table takes the whole
 * budget less its mapping array. Stored users take `userShare` of the rows first (every user its
 * own row when they fit), as the hashed-both-tables layout always did (table-layout.ts planBudget).
 * Throws a RangeError when the budget cannot hold even a few rows.
 */
export function planRows (o: { users: number, items: number, dimension: number, budget: number, mapping: MappingKind, userVectors: UserVectors, dtype: EmbeddingDtype, userShare?: number }): RowPlan {
  const row = rowBytes(o.dtype, o.dimension)
  if (o.budget >= 1 && o.userVectors === 'stored' && o.dtype === 'F32') return { userRows: o.users, itemRows: o.items, itemsFull: true, usersFull: true }
  const available = o.budget * fullTableBytes(o.users, o.items, o.dimension)
  let userRows = 0
  let itemBytes = available
  if (o.userVectors === 'stored') {
    const share = o.userShare ?? 0.6
    userRows = Math.min(o.users, Math.max(1, Math.floor((available * share) / row)))
    itemBytes = available - userRows * row
  }
  const fullItems = o.items * row
  if (itemBytes >= fullItems) return { userRows, itemRows: o.items, itemsFull: true, usersFull: userRows === o.users }
  let itemRows = Math.floor((itemBytes - mappingBytes(o.mapping, o.items, 1, 0)) / row)
  // Past 65,535 rows the mapping takes 4 bytes an id: the rows it costs come out of the table.
  if (itemRows > U16_MAPPING_MAX_ROWS) itemRows = Math.floor((itemBytes - mappingBytes(o.mapping, o.items, 1, itemRows)) / row)
  if (itemRows < 2) throw new RangeError(`a budget of ${o.budget} leaves ${Math.max(0, itemRows)} item rows of ${o.dimension} values (${o.dtype}); raise it`)
  return { userRows, itemRows, itemsFull: false, usersFull: userRows === o.users }
}
