/**
 * The linear scan over a filter's rows alone: their codes gathered into one contiguous copy, so a
 * filter passing a tenth of a large catalog is scanned at a tenth of the cost. The multi-index
 * tables answer a filtered top-k well (they skip ineligible rows as they meet them), but the
 * hybrid's candidate stage needs C = 200 eligible rows, which under a 10% filter means reaching
 * ten times the entries: on the synthetic 1M catalog (a 10% filter, 300 queries in one process)
 * the bounded stage took 476-508 µs a query against 99 µs for the scan of the 100k eligible codes;
 * bench:filters times the whole filtered search. Built on first use per filter (engines.ts keeps
 * it with the filter), ~17 bytes per eligible row.
 */
import { indexOfSorted } from '../row-filter.js'
import type { ExcludeSet, TopK } from '../types.js'
import { createLinearHammingScan } from './linear-scan.js'

export interface SubsetScan {
  /** Exact top-k by (distance, row) of the subset's rows that `exclude` (catalog rows) does not hold; catalog rows out. */
  search (query: Uint32Array, k: number, exclude?: ExcludeSet): TopK
  readonly memoryBytes: number
}

/** `rows` ascending (a RowFilter's), so ties by subset position are ties by catalog row. */
export function createSubsetScan (itemCodes: Uint32Array, codeWords: number, rows: Int32Array): SubsetScan {
  const n = rows.length
  const codes = new Uint32Array(n * codeWords)
  for (let i = 0; i < n; i++) for (let w = 0; w < codeWords; w++) codes[i * codeWords + w] = itemCodes[rows[i] * codeWords + w]
  const scan = createLinearHammingScan(codes, codeWords, n)

  /** The exclusion in subset positions: listed through the catalog set's own list when it has one. */
  const local = (exclude: ExcludeSet): ExcludeSet => {
    const has = (i: number): boolean => exclude.has(rows[i])
    if (exclude.forEach === undefined) return { has, size: exclude.size }
    const list = exclude.forEach.bind(exclude)
    return { has, size: exclude.size, forEach: (fn) => { list((row) => { const i = indexOfSorted(rows, row); if (i >= 0) fn(i) }) } }
  }

  return {
    memoryBytes: codes.byteLength + scan.memoryBytes,
    search (query, k, exclude) {
      const top = scan.search(query, k, exclude === undefined || exclude.size === 0 ? undefined : local(exclude))
      const out = new Int32Array(top.rows.length)
      for (let i = 0; i < out.length; i++) out[i] = rows[top.rows[i]]
      return { rows: out, scores: top.scores, candidatesExamined: top.candidatesExamined }
    },
  }
}
