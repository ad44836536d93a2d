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
  readonly key: string
  inputs: I
  /** What else the value was computed from, as one number (the result cache: the catalog rules' epoch). */
  stamp: number
  value: V
  bytes: number
  /** Read (or replaced) since the hand last passed it: spared once by the eviction scan. */
  used: boolean
  /** Removed from the map while still in the ring (a replacement too large to keep): the hand drops it. */
  dead: boolean
}

/** Map and object overhead per entry, beyond its inputs, key and value (an estimate; it only sizes the budget). */
const ENTRY_OVERHEAD_BYTES = 160

/**
 * CLOCK over a ring of entries in insertion order: the hand is the ring's head. Eviction used to
 * take the Map's oldest entry through a fresh iterator, but a Map keeps deleted entries as holes
 * until it rehashes and every new iterator walks over them from the start, so one put cost ~17 µs
 * at a full 32 MiB budget (~24k answers, Zipf traffic: bench/recommend/cache-ops.ts). The ring
 * moves a spared entry from head to tail in O(1).
 */
export class CheckedLru<V, I> {
  private readonly entries = new Map<string, Entry<V, I>>()
  private ring: Array<Entry<V, I> | undefined> = new Array(64)
  private head = 0
  private count = 0
  private bytes = 0
  hits = 0
  misses = 0

  constructor (private readonly budgetBytes: number, private readonly check: InputsCheck<I>) {}

  get size (): number { return this.entries.size }
  get usedBytes (): number { return this.bytes }
  /** False for a zero budget: callers skip building keys. */
  get enabled (): boolean { return this.budgetBytes > 0 }

  /** The value kept for `key` when its inputs equal `inputs` (and its stamp `stamp`), else undefined (a miss). */
  get (key: string, inputs: I, stamp = 0): V | undefined {
    const e = this.entries.get(key)
    if (e === undefined || e.stamp !== stamp || !this.check.equal(e.inputs, inputs)) { this.misses++; return undefined }
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
   * estimated size. A replaced entry keeps its place in the ring, marked used: its key was just
   * asked for.
   */
  put (key: string, inputs: I, value: V, valueBytes: number, stamp = 0): void {
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * key.length + this.check.bytes(inputs) + valueBytes
    const old = this.entries.get(key)
    if (old !== undefined) {
      if (bytes > this.budgetBytes) {
        this.entries.delete(key)
        this.bury(old)
        return
      }
      this.bytes -= old.bytes
      old.bytes = 0
      this.evictFor(bytes)
      old.inputs = this.check.keep(inputs)
      old.stamp = stamp
      old.value = value
      old.bytes = bytes
      old.used = true
      this.bytes += bytes
      return
    }
    if (bytes > this.budgetBytes) return
    this.evictFor(bytes)
    const e: Entry<V, I> = { key, inputs: this.check.keep(inputs), stamp, value, bytes, used: false, dead: false }
    this.entries.set(key, e)
    this.push(e)
    this.bytes += bytes
  }

  /**
   * Evicts from the hand until `bytes` more fit in the budget. Used entries, and the entry being
   * replaced (its bytes set to 0 meanwhile), go round once more; the loop ends because every
   * entry holding bytes is evicted by its second pass at the latest.
   */
  private evictFor (bytes: number): void {
    while (this.bytes + bytes > this.budgetBytes) {
      const e = this.shift()
      if (e.dead) continue
      if (e.used || e.bytes === 0) {
        e.used = false
        this.push(e)
        continue
      }
      this.entries.delete(e.key)
      this.bury(e)
    }
  }

  /** Out of the map and the budget; the ring drops it when the hand comes by, holding nothing meanwhile. */
  private bury (e: Entry<V, I>): void {
    this.bytes -= e.bytes
    e.dead = true
    e.bytes = 0
    e.value = undefined as V
    e.inputs = undefined as I
  }

  private shift (): Entry<V, I> {
    const e = this.ring[this.head]!
    this.ring[this.head] = undefined
    this.head = (this.head + 1) & (this.ring.length - 1)
    this.count--
    return e
  }

  private push (e: Entry<V, I>): void {
    if (this.count === this.ring.length) {
      const grown: Array<Entry<V, I> | undefined> = new Array(2 * this.ring.length)
      for (let i = 0; i < this.count; i++) grown[i] = this.ring[(this.head + i) & (this.ring.length - 1)]
      this.ring = grown
      this.head = 0
    }
    this.ring[(this.head + this.count) & (this.ring.length - 1)] = e
    this.count++
  }
}
