import type { RowFilter } from '../row-filter.js'
import type { ExcludeSet } from '../types.js'

/**
 * One bit per item row (bit r & 7 of byte r >> 3), set for rows to skip, read by the WebAssembly
 * scans inside their loops. Between searches it holds the complement of the last search's filter
 * (all zero after an unfiltered one): `base` rewrites it only when the filter changes, so a stream
 * of queries under one filter (the catalog's availability, a popular tag) pays its O(items / 32)
 * copy once. `mark` sets the rows a set can list on top of it, `clear` restores them.
 */
export interface ExclusionBitmap {
  /** Makes the bitmap skip every row `filter` does not pass (none when undefined); kept until the next call. */
  base (filter: RowFilter | undefined): void
  /** Marks the rows of `exclude` when it can list them (forEach); false when it cannot (or is empty). */
  mark (exclude: ExcludeSet | undefined): boolean
  /** Undoes `mark` for the same set. */
  clear (exclude: ExcludeSet): void
}

export function createExclusionBitmap (bits: Uint8Array, itemCount: number): ExclusionBitmap {
  let current: RowFilter | undefined
  // Rows outside the catalog are ignored, never written past the bitmap.
  const set = (row: number): void => { if (row >= 0 && row < itemCount) bits[row >> 3] |= 1 << (row & 7) }
  // A byte back to the base: zero, or the filter's complement.
  const unset = (row: number): void => {
    if (row < 0 || row >= itemCount) return
    const b = row >> 3
    bits[b] = current === undefined ? 0 : ~current.bits[b] & (b === bits.length - 1 && (itemCount & 7) !== 0 ? (1 << (itemCount & 7)) - 1 : 0xff)
  }
  const reset = (): void => {
    if (current === undefined) bits.fill(0)
    else current.complementInto(bits)
  }
  return {
    base (filter) {
      if (filter === current) return
      if (filter !== undefined && filter.itemCount !== itemCount) throw new RangeError(`a filter over ${filter.itemCount} rows for a catalog of ${itemCount}`)
      current = filter
      reset()
    },
    mark (exclude) {
      if (exclude === undefined || exclude.size === 0 || exclude.forEach === undefined) return false
      exclude.forEach(set)
      return true
    },
    clear (exclude) {
      // A few rows are cheaper to restore one by one than the whole bitmap (128 KiB at 1M items).
      if (exclude.size * 64 < bits.length) exclude.forEach!(unset)
      else reset()
    },
  }
}
