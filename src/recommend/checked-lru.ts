/**
 * A least-recently-used map (CLOCK), bounded by bytes, whose entries are valid only for the exact
 * inputs they were computed from. Both per-recommender caches use it (one cache per recommender,
 * so a model swap starts empty):
 * - a user's fold-in solve depends on the user's item rows in order (training items, then recent
 *   history): `ROWS`;
 * - a whole answer on the request and the user id (the key) and the ids of their recent history in
 *   order: `IDS`. Comparing the ids needs no lookup in the catalog's id index, which for a
 *   200-item history cost more than the rest of a hit.
 * An entry is returned only when the given inputs equal the kept ones, so a hit is what a fresh
 * computation would give, and a user's new event is a miss without any invalidation message
 * (which, with replicas sharing Redis, would have to reach every process).
 */

/** How a cache compares, keeps and sizes the inputs an entry was computed from. */
export interface InputsCheck<I> {
  equal (kept: I, given: I): boolean
  /** What to keep of `given`: a copy when the caller's may change (scratch buffers). */
  keep (given: I): I
  /** Estimated heap bytes of the kept inputs. */
  bytes (given: I): number
}

/** Item rows, compared element by element; kept as a copy (callers pass views of scratch). */
export const ROWS: InputsCheck<Int32Array> = {
  equal (kept, given) {
    if (kept.length !== given.length) return false
    for (let i = 0; i < kept.length; i++) if (kept[i] !== given[i]) return false
    return true
  },
  keep: (given) => given.slice(),
  bytes: (given) => 4 * given.length,
}

/**
 * Ids in order. The same array is equal at once (the in-process store hands out one frozen array
 * per history until its next change); others compare element by element. A frozen array is kept
 * as is, any other as a frozen copy.
 */
export const IDS: InputsCheck<readonly string[]> = {
  equal (kept, given) {
    if (kept === given) return true
    if (kept.length !== given.length) return false
    for (let i = 0; i < kept.length; i++) if (kept[i] !== given[i]) return false
    return true
  },
  keep: (given) => Object.isFrozen(given) ? given : Object.freeze(given.slice()),
  bytes (given) {
    let bytes = 16 + 8 * given.length
    for (const id of given) bytes += 16 + 2 * id.length
    return bytes
  },
}

interface Entry<V, I> {
  readonly inputs: I
  readonly value: V
  readonly bytes: number
  /** Read since it was last (re)inserted: spared once by the eviction scan. */
  used: boolean
}

/** Map and object overhead per entry, beyond its inputs, key and value (an estimate; it only sizes the budget). */
const ENTRY_OVERHEAD_BYTES = 160

export class CheckedLru<V, I> {
  private readonly entries = new Map<string, Entry<V, I>>()
  private bytes = 0
  hits = 0
  misses = 0

  constructor (private readonly budgetBytes: number, private readonly check: InputsCheck<I>) {}

  get size (): number { return this.entries.size }
  get usedBytes (): number { return this.bytes }
  /** False for a zero budget: callers skip building keys. */
  get enabled (): boolean { return this.budgetBytes > 0 }

  /** The value kept for `key` when its inputs equal `inputs`, else undefined (a miss). */
  get (key: string, inputs: I): V | undefined {
    const e = this.entries.get(key)
    if (e === undefined || !this.check.equal(e.inputs, inputs)) { this.misses++; return undefined }
    // CLOCK, an approximation of LRU: a hit only sets a bit (moving the entry to the end of the
    // Map on every hit cost ~6% of a 1M worker's CPU under the bench:http user mix); eviction gives
    // used entries a second chance instead.
    e.used = true
    this.hits++
    return e.value
  }

  /**
   * Keeps `value` for `key` with what it was computed from (replacing the key's entry), evicting
   * the least recently used entries to stay within the budget. `valueBytes` is the value's
   * estimated size.
   */
  put (key: string, inputs: I, value: V, valueBytes: number): void {
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * key.length + this.check.bytes(inputs) + valueBytes
    const old = this.entries.get(key)
    if (old !== undefined) { this.entries.delete(key); this.bytes -= old.bytes }
    if (bytes > this.budgetBytes) return
    while (this.bytes + bytes > this.budgetBytes) {
      // Insertion order: the oldest first. A used one goes to the end with its bit cleared, so the
      // scan ends within one pass.
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry<V, I>]
      this.entries.delete(oldestKey)
      if (oldest.used) {
        oldest.used = false
        this.entries.set(oldestKey, oldest)
        continue
      }
      this.bytes -= oldest.bytes
    }
    this.entries.set(key, { inputs: this.check.keep(inputs), value, bytes, used: false })
    this.bytes += bytes
  }
}
