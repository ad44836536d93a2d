/**
 * A table layout from an explicit per-id row assignment (a learned mapping), and the I32 [n, c]
 * tensor the bundle stores it as. The conceptual table is the same [K dedicated | B shared] as for
 * hashing, so ids the mapping does not list (never seen in training) still resolve by double
 * hashing into the B shared rows with `seeds`.
 */
import type { TableConfig } from '../../bundle-format/manifest.js'
import { invertedLists, type TableLayout } from '../table-layout.js'

export type LearnedMappingKind = NonNullable<TableConfig['learnedMapping']>['kind']
export type MappingTensorName = 'item_rows' | 'user_rows'

export interface RowAssignment {
  /** K: rows 0..K-1, each owned by exactly one id that uses no other row. */
  readonly dedicatedRows: number
  /** B: rows K..K+B-1, shared by clusters of ids (and by unseen ids through the hashes). */
  readonly sharedRows: number
  /** n x 2, row-major: id i uses rows[2i] and, unless it is -1, rows[2i + 1]. rows[2i] = -1: no row. */
  readonly rows: Int32Array
}

/** An assignment that breaks the layout's invariants (row out of range, shared dedicated row). */
export class InvalidAssignmentError extends RangeError {}

/**
 * The layout of `assignment`, its config carrying `mapping` (omitted for an internal layout such as
 * the identity). Dedicated ids are the owners of rows 0..K-1 in row order, as for a hashed table.
 */
export function assignmentLayout (assignment: RowAssignment, seeds: [number, number], mapping?: { kind: LearnedMappingKind, tensor: MappingTensorName }): TableLayout {
  const { dedicatedRows: k, sharedRows: b, rows: assigned } = assignment
  if (assigned.length % 2 !== 0) throw new InvalidAssignmentError('assignment rows must be n x 2')
  const n = assigned.length / 2
  const rows = k + b
  const idRowCount = new Uint8Array(n)
  const idRows = new Int32Array(2 * n)
  for (let i = 0; i < n; i++) {
    const a = assigned[2 * i]
    const c = assigned[2 * i + 1]
    if (a < -1 || a >= rows || c < -1 || c >= rows) throw new InvalidAssignmentError(`id ${i}: row out of [-1, ${rows})`)
    if (a === -1 && c !== -1) throw new InvalidAssignmentError(`id ${i}: a second row without a first`)
    idRowCount[i] = a === -1 ? 0 : c === -1 ? 1 : 2
    idRows[2 * i] = a
    idRows[2 * i + 1] = c
  }
  const lists = invertedLists(rows, idRowCount, idRows)
  const dedicatedIds = new Int32Array(k)
  for (let r = 0; r < k; r++) {
    const p = lists.rowPtr[r]
    const owner = lists.rowIds[p]
    if (lists.rowPtr[r + 1] - p !== 1 || idRowCount[owner] !== 1) throw new InvalidAssignmentError(`dedicated row ${r} must be the only row of exactly one id`)
    dedicatedIds[r] = owner
  }
  const config: TableConfig = {
    dedicatedRows: k,
    sharedRows: b,
    aggregation: 'sum',
    hash: { function: 'murmur3_x86_32', seeds },
    ...(mapping === undefined ? {} : { learnedMapping: { ...mapping } }),
  }
  return { config, rows, idRowCount, idRows, ...lists, dedicatedIds }
}

/**
 * The I32 [n, c] tensor of a layout: id i's rows at [i * c .. i * c + c), -1 where it has none.
 * c = 1 when no id uses two rows.
 */
export function mappingTensor (layout: TableLayout): { data: Int32Array, shape: [number, number] } {
  const n = layout.idRowCount.length
  const c = mappingColumns(layout)
  const data = new Int32Array(n * c).fill(-1)
  for (let i = 0; i < n; i++) {
    const count = layout.idRowCount[i]
    for (let j = 0; j < Math.min(count, c); j++) data[i * c + j] = layout.idRows[2 * i + j]
  }
  return { data, shape: [n, c] }
}

/** Columns of a layout's mapping array: 2 when some id sums two rows. */
export function mappingColumns (layout: TableLayout): 1 | 2 {
  for (let i = 0; i < layout.idRowCount.length; i++) if (layout.idRowCount[i] > 1) return 2
  return 1
}

/** Every one of n ids owns the row of its index: the unhashed table, without id strings. */
export function identityLayout (n: number, seeds: [number, number] = [0, 0]): TableLayout {
  const rows = new Int32Array(2 * n).fill(-1)
  for (let i = 0; i < n; i++) rows[2 * i] = i
  return assignmentLayout({ dedicatedRows: n, sharedRows: 0, rows }, seeds)
}
