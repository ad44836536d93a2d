import type { ExcludeSet } from '../types.js'

/**
 * One bit per item row (bit r & 7 of byte r >> 3), set for rows to skip, read by the WebAssembly
 * scans inside their loops. All zero between searches: `mark` sets the rows a set can list,
 * `clear` unsets them again.
 */
export interface ExclusionBitmap {
  /** Marks the rows of `exclude` when it can list them (forEach); false when it cannot (or is empty). */
  mark (exclude: ExcludeSet | undefined): boolean
  /** Undoes `mark` for the same set. */
  clear (exclude: ExcludeSet): void
}

export function createExclusionBitmap (bits: Uint8Array, itemCount: number): ExclusionBitmap {
  // Rows outside the catalog are ignored, never written past the bitmap.
  const set = (row: number): void => { if (row >= 0 && row < itemCount) bits[row >> 3] |= 1 << (row & 7) }
  const unset = (row: number): void => { if (row >= 0 && row < itemCount) bits[row >> 3] = 0 }
  return {
    mark (exclude) {
      if (exclude === undefined || exclude.size === 0 || exclude.forEach === undefined) return false
      exclude.forEach(set)
      return true
    },
    clear (exclude) {
      // A few rows are cheaper to clear one by one than the whole bitmap (128 KiB at 1M items).
      if (exclude.size * 64 < bits.length) exclude.forEach!(unset)
      else bits.fill(0)
    },
  }
}
