/**
 * Folded-in user vectors kept between requests. A user whose history adds items the model was not
 * trained on is folded in by a least-squares solve over all their items (src/realtime/fold-in.ts):
 * p50 0.138 ms and p99 0.804 ms on MovieLens, against p50 0.026 ms for a learned row
 * (bench/realtime/user-fold-in.ts). The solve depends only on the model and the user's item rows
 * in order, which change only when the user's history does, so a user's next requests reuse it:
 * an entry is kept with the exact rows it was computed from and used only when the request's rows
 * are the same, so a hit returns the very vector and code a fresh solve would.
 *
 * Least recently used entries go first once the entries' bytes pass the budget
 * (src/recommend/checked-lru.ts). One cache per recommender, so a model swap starts empty.
 */
import { CheckedLru, ROWS } from './checked-lru.js'

interface Solve {
  readonly vector: Float32Array
  readonly code: Uint32Array
}

export class FoldInCache {
  private readonly lru: CheckedLru<Solve, Int32Array>

  constructor (budgetBytes: number) { this.lru = new CheckedLru(budgetBytes, ROWS) }

  get size (): number { return this.lru.size }
  get usedBytes (): number { return this.lru.usedBytes }
  get hits (): number { return this.lru.hits }
  get misses (): number { return this.lru.misses }

  /** Copies the cached vector and code of `key` into `vector`/`code` when its rows equal rows[0..n); else false. */
  get (key: string, rows: Int32Array, n: number, vector: Float32Array, code: Uint32Array): boolean {
    const e = this.lru.get(key, rows.subarray(0, n))
    if (e === undefined) return false
    vector.set(e.vector)
    code.set(e.code)
    return true
  }

  /** Keeps copies of rows[0..n), `vector` and `code` for `key` (replacing its entry), within the budget. */
  put (key: string, rows: Int32Array, n: number, vector: Float32Array, code: Uint32Array): void {
    this.lru.put(key, rows.subarray(0, n), { vector: vector.slice(), code: code.slice() }, 80 + 4 * (vector.length + code.length))
  }
}
