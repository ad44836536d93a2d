/**
 * Exact Hamming top-K over a list of rows alone: the engines' path for a small filter (an allow
 * list, a rare tag), whose cost is the list's length rather than the catalog's.
 */
import { hammingDistance, rankByDistance } from '../top-k.js'
import type { ExcludeSet, TopK } from '../types.js'

export interface RowListHamming {
  /** Top-k by (distance, row) of `rows[0, count)` (ascending) that `exclude` does not hold. */
  search (query: Uint32Array, rows: Int32Array, count: number, k: number, exclude?: ExcludeSet): TopK
}

/** Scratch for lists of up to `maxRows` rows, allocated once. */
export function createRowListHamming (itemCodes: Uint32Array, codeWords: number, maxRows: number): RowListHamming {
  const codeBits = codeWords * 32
  const dist = new Uint8Array(maxRows)
  const order = new Int32Array(maxRows)
  const histogram = new Int32Array(codeBits + 2)
  return {
    search (query, rows, count, k, exclude) {
      if (count > maxRows) throw new RangeError(`at most ${maxRows} rows, got ${count}`)
      for (let i = 0; i < count; i++) dist[i] = hammingDistance(itemCodes, rows[i], codeWords, query)
      // Stable by distance over ascending rows: ties go to the lower row, as everywhere.
      return rankByDistance(rows, dist, count, codeBits, k, exclude, codeBits, histogram, order, count)
    },
  }
}
