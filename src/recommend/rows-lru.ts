/**
 * A least-recently-used map (CLOCK), bounded by bytes, whose entries are valid only for the exact
 * item rows they were computed from. Both per-recommender caches use it: a user's fold-in solve
 * depends on the model (one cache per recommender, so a swap starts empty) and the user's item
 * rows in order (training items, then recent history); a whole answer on the model, the request,
 * the user id and their history's rows. An entry is returned only when the given rows equal the
 * kept ones, so a hit is what a fresh computation would give, and a user's new event is a miss
 * without any invalidation message (which, with replicas sharing Redis, would have to reach every
 * process).
 */

interface Entry<V> {
  readonly rows: Int32Array
  readonly value: V
  readonly bytes: number
  /** Read since it was last (re)inserted: spared once by the eviction scan. */
  used: boolean
}

/** Map and object overhead per entry, beyond its rows, key and value (an estimate; it only sizes the budget). */
const ENTRY_OVERHEAD_BYTES = 160

export class RowsKeyedLru<V> {
  private readonly entries = new Map<string, Entry<V>>()
  private bytes = 0
  hits = 0
  misses = 0

  constructor (private readonly budgetBytes: number) {}

  get size (): number { return this.entries.size }
  get usedBytes (): number { return this.bytes }
  /** False for a zero budget: callers skip building keys. */
  get enabled (): boolean { return this.budgetBytes > 0 }

  /** The value kept for `key` when its rows equal rows[0..n), else undefined (a miss). */
  get (key: string, rows: Int32Array, n: number): V | undefined {
    const e = this.entries.get(key)
    if (e === undefined || e.rows.length !== n || !sameRows(e.rows, rows, n)) { this.misses++; return undefined }
    // CLOCK, an approximation of LRU: a hit only sets a bit (moving the entry to the end of the
    // Map on every hit cost ~6% of a 1M worker's CPU under the bench:http user mix); eviction gives
    // used entries a second chance instead.
    e.used = true
    this.hits++
    return e.value
  }

  /**
   * Keeps `value` for `key` with a copy of rows[0..n) (replacing the key's entry), evicting the least
   * recently used entries to stay within the budget. `valueBytes` is the value's estimated size.
   */
  put (key: string, rows: Int32Array, n: number, value: V, valueBytes: number): void {
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * key.length + 4 * n + valueBytes
    const old = this.entries.get(key)
    if (old !== undefined) { this.entries.delete(key); this.bytes -= old.bytes }
    if (bytes > this.budgetBytes) return
    while (this.bytes + bytes > this.budgetBytes) {
      // Insertion order: the oldest first. A used one goes to the end with its bit cleared, so the
      // scan ends within one pass.
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry<V>]
      this.entries.delete(oldestKey)
      if (oldest.used) {
        oldest.used = false
        this.entries.set(oldestKey, oldest)
        continue
      }
      this.bytes -= oldest.bytes
    }
    this.entries.set(key, { rows: rows.slice(0, n), value, bytes, used: false })
    this.bytes += bytes
  }
}

function sameRows (a: Int32Array, b: Int32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}
