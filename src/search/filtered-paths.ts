/**
 * The engines' own paths for filtered searches (see row-filter.ts and engines.ts): a small
 * filter's rows searched alone, and on tabled catalogs a scan of a selective filter's codes.
 */
import { createRowListHamming, type RowListHamming } from './hamming/row-list.js'
import { createSubsetScan, type SubsetScan } from './hamming/subset-scan.js'
import type { RowFilter } from './row-filter.js'
import { EMPTY_TOP_K } from './top-k.js'
import type { ExcludeSet, TopK } from './types.js'

/**
 * Filters with at most this many rows are searched over their rows alone (Hamming and the hybrid's
 * candidates; MIPS weighs its own costs in hnsw-mips.ts): an allow list of ids, a rare tag.
 */
export const ROW_LIST_MAX = 2048
/**
 * On catalogs with multi-index tables, a filter passing less than this share of the catalog gives
 * the hybrid's candidate stage (and a Hamming search the tables give up on) a scan of the eligible
 * rows' codes alone (hamming/subset-scan.ts), built on first use and kept with the filter.
 */
export const SUBSET_MAX_SHARE = 0.25

export class FilteredPaths {
  private readonly rowListMax: number
  private readonly rowList: RowListHamming
  private readonly eligibleRows: Int32Array
  // Kept with the filter object: dropped when the caller drops the filter (a new catalog rule, an evicted entry).
  private readonly subsets = new WeakMap<RowFilter, SubsetScan>()

  constructor (
    private readonly itemCodes: Uint32Array,
    private readonly codeWords: number,
    private readonly itemCount: number,
    rowListMax: number,
    private readonly subsetMaxShare: number,
  ) {
    this.rowListMax = Math.min(rowListMax, itemCount)
    this.rowList = createRowListHamming(itemCodes, codeWords, this.rowListMax)
    this.eligibleRows = new Int32Array(this.rowListMax)
  }

  /** True when `filter` is searched over its rows alone. */
  small (filter: RowFilter): boolean {
    return filter.count <= this.rowListMax
  }

  /** Exact Hamming top-k of a small filter's rows. */
  hamming (code: Uint32Array, filter: RowFilter, k: number, exclude: ExcludeSet | undefined): TopK {
    return this.rowList.search(code, filter.rows, filter.count, k, exclude)
  }

  /** A small filter's rows that are not excluded, as the hybrid's candidates (the re-rank scores them all). */
  eligible (filter: RowFilter, exclude: ExcludeSet | undefined): TopK {
    const rows = filter.rows
    let n = 0
    for (let i = 0; i < filter.count; i++) if (exclude === undefined || !exclude.has(rows[i])) this.eligibleRows[n++] = rows[i]
    return { rows: this.eligibleRows.subarray(0, n), scores: EMPTY_TOP_K.scores, candidatesExamined: 0 }
  }

  /** The scan of a selective filter's codes on a tabled catalog, built on first use; null otherwise. */
  subset (filter: RowFilter, tabled: boolean): SubsetScan | null {
    if (!tabled || filter.count >= this.itemCount * this.subsetMaxShare) return null
    let subset = this.subsets.get(filter)
    if (subset === undefined) this.subsets.set(filter, subset = createSubsetScan(this.itemCodes, this.codeWords, filter.rows))
    return subset
  }
}
