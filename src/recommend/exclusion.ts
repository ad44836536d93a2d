/**
 * Which item rows a query leaves out, as the engines' exclusion set (src/search/types.ts ExcludeSet).
 */
import type { IdIndex } from '../model-loader/id-index.js'
import type { ExcludeSet } from '../search/types.js'

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

/**
 * A user's seen items (training interactions and history, up to thousands) as an exclusion set
 * without a Set per request: each item row carries the generation stamp it was last marked with,
 * and the set is "stamped with the current generation". Measured in process on models/default,
 * all 610 users, k = 10, per query: hybrid 85.8 -> 50.1 µs, hamming 25.6 -> 12.8 µs, mips 128 -> 89 µs.
 * It lists its rows too (rows[0, count), then the rows of the request's exclude ids), so the linear
 * scan can skip them inside the scan. The fallback marks the rows it has taken with a generation of
 * its own in the same stamps.
 */
export class SeenRows implements ExcludeSet {
  /** The user's distinct item rows, training interactions first (filled by the caller, `count` of them). */
  readonly rows: Int32Array
  size = 0
  private readonly stamps: Uint32Array
  private stamp = 0
  private gen = 0
  private count = 0
  private readonly idRows: number[] = []

  constructor (itemCount: number, capacity: number) {
    this.stamps = new Uint32Array(itemCount)
    this.rows = new Int32Array(capacity)
  }

  /** A new generation: no row is marked with it. */
  next (): number {
    if (++this.stamp === 0xffffffff) { this.stamps.fill(0); this.stamp = 1 }
    return this.stamp
  }

  /** Marks `row` with generation `gen`; false when it was marked with it already. */
  mark (row: number, gen: number): boolean {
    if (this.stamps[row] === gen) return false
    this.stamps[row] = gen
    return true
  }

  /** This set, holding rows[0, count) (marked `gen`) plus the rows of `ids`. */
  exclusion (gen: number, count: number, ids: readonly string[] | undefined, items: IdIndex): ExcludeSet {
    const idRows = this.idRows
    idRows.length = 0
    if (ids) {
      for (const id of ids) {
        const row = items.rowOf(id)
        if (row !== undefined && this.stamps[row] !== gen) { this.stamps[row] = gen; idRows.push(row) }
      }
    }
    this.gen = gen
    this.count = count
    this.size = count + idRows.length
    return this
  }

  has (row: number): boolean {
    return this.stamps[row] === this.gen
  }

  forEach (fn: (row: number) => void): void {
    for (let i = 0; i < this.count; i++) fn(this.rows[i])
    for (let i = 0; i < this.idRows.length; i++) fn(this.idRows[i])
  }
}
