/**
 * Folded-in user vectors kept between requests. A user whose history adds items the model was not
 * trained on is folded in by a least-squares solve over all their items (src/realtime/fold-in.ts):
 * ~0.3 ms at the median on MovieLens and ~2 ms for the heaviest users, against ~0.03 ms for a
 * learned row. The solve depends only on the model and the user's item rows in order, which change
 * only when the user's history does, so a user's next requests reuse it: an entry is kept with the
 * exact rows it was computed from and used only when the request's rows are the same, so a hit
 * returns the very vector and code a fresh solve would.
 *
 * Least recently used entries go first once the entries' bytes pass the budget. One cache per
 * recommender, so a model swap starts empty.
 */

/** Default budget of the folded-in vectors kept per recommender (FOLD_IN_CACHE_BYTES). */
export const DEFAULT_FOLD_IN_CACHE_BYTES = 16 * 1024 * 1024

interface Entry {
  readonly rows: Int32Array
  readonly vector: Float32Array
  readonly code: Uint32Array
  readonly bytes: number
}

/** Map and object overhead per entry, beyond its arrays and key (an estimate; it only sizes the budget). */
const ENTRY_OVERHEAD_BYTES = 240

export class FoldInCache {
  private readonly entries = new Map<string, Entry>()
  private bytes = 0
  hits = 0
  misses = 0

  constructor (private readonly budgetBytes: number) {}

  get size (): number { return this.entries.size }
  get usedBytes (): number { return this.bytes }

  /** Copies the cached vector and code of `key` into `vector`/`code` when its rows equal rows[0..n); else false. */
  get (key: string, rows: Int32Array, n: number, vector: Float32Array, code: Uint32Array): boolean {
    const e = this.entries.get(key)
    if (e === undefined || e.rows.length !== n || !sameRows(e.rows, rows, n)) { this.misses++; return false }
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key)
    this.entries.set(key, e)
    vector.set(e.vector)
    code.set(e.code)
    this.hits++
    return true
  }

  /** Keeps copies of rows[0..n), `vector` and `code` for `key` (replacing its entry), within the budget. */
  put (key: string, rows: Int32Array, n: number, vector: Float32Array, code: Uint32Array): void {
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * key.length + 4 * (n + vector.length + code.length)
    const old = this.entries.get(key)
    if (old !== undefined) { this.entries.delete(key); this.bytes -= old.bytes }
    if (bytes > this.budgetBytes) return
    while (this.bytes + bytes > this.budgetBytes) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry]
      this.entries.delete(oldestKey)
      this.bytes -= oldest.bytes
    }
    this.entries.set(key, { rows: rows.slice(0, n), vector: vector.slice(), code: code.slice(), bytes })
    this.bytes += bytes
  }
}

function sameRows (a: Int32Array, b: Int32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}
