/**
 * The in-process store's per-user histories (memory-store.ts): each user's recent distinct items
 * with their latest timestamps, kept HISTORY_LENGTH deep and HISTORY_TTL_SECONDS after the user's
 * last event. The users are kept in order of their last event, so past `maxEntries` (a user and
 * each of their items count one) the least recently active are forgotten first: an id space
 * without bound (a client inventing user ids) cannot grow the heap without bound.
 */

export interface History {
  /** itemId -> latest timestamp */
  readonly items: Map<string, number>
  expiresAt: number
  /** The ids newest first, kept from the last read until the next write: reads outnumber writes. */
  ordered: readonly string[] | null
}

/** The history of a user without one (or whose history expired): one frozen array for all. */
const NO_ITEMS: readonly string[] = Object.freeze([])

/** The item with the smallest timestamp; among equals the largest id (recentItems lists it last). */
function oldestItem (items: Map<string, number>): string {
  let id = ''
  let ts = Infinity
  for (const [itemId, t] of items) if (t < ts || (t === ts && itemId > id)) { id = itemId; ts = t }
  return id
}

export class UserHistories {
  /** In order of each user's last event: the first is the least recently active. */
  private readonly byUser = new Map<string, History>()
  private entries = 0

  constructor (private readonly length: number, private readonly ttlMs: number, private readonly maxEntries: number) {}

  /** One event at time t. */
  record (userId: string, itemId: string, timestamp: number, t: number): void {
    let h = this.byUser.get(userId)
    if (h !== undefined) this.forget(userId, h)
    if (h === undefined || h.expiresAt <= t) h = { items: new Map(), expiresAt: 0, ordered: null }
    // Re-inserted: the most recently active user goes last.
    this.byUser.set(userId, h)
    h.ordered = null
    const before = h.items.get(itemId)
    h.items.set(itemId, before === undefined ? timestamp : Math.max(before, timestamp))
    h.expiresAt = t + this.ttlMs
    // One over the cap: drop the oldest (the last in recentItems' order), one scan and no copy.
    // Sorting the whole history for each event of a user at the cap cost more than the rest of
    // the event (bench:http events mix, WORKERS=2: applyEvents 5-6% of a worker's time).
    if (h.items.size > this.length) h.items.delete(oldestItem(h.items))
    this.entries += 1 + h.items.size
    while (this.entries > this.maxEntries && this.byUser.size > 1) {
      const [user, oldest] = this.byUser.entries().next().value as [string, History]
      this.forget(user, oldest)
    }
  }

  /** The user's most recent distinct items at time t, newest first. */
  recent (userId: string, limit: number, t: number): readonly string[] {
    const h = this.byUser.get(userId)
    if (!h || h.expiresAt <= t) return NO_ITEMS
    // Sorted once per change, not per request: a 200-item history cost a sort and three arrays per
    // recommendation. Frozen and handed out as is while it fits the limit (the service asks for
    // the whole history): the same array until the next event lets a caller keep it without a
    // copy and compare it at once (the result cache checks kept answers against it).
    h.ordered ??= Object.freeze([...h.items].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id))
    return limit >= h.ordered.length ? h.ordered : h.ordered.slice(0, limit)
  }

  /** Forgets the histories expired at time t, so memory tracks active users only. */
  sweep (t: number): void {
    for (const [user, h] of this.byUser) if (h.expiresAt <= t) this.forget(user, h)
  }

  clear (): void {
    this.byUser.clear()
    this.entries = 0
  }

  /** A user's history from a snapshot, as the most recently active so far (snapshots keep the order). */
  load (userId: string, expiresAt: number, items: Iterable<readonly [string, number]>): void {
    const h: History = { items: new Map(items), expiresAt, ordered: null }
    this.byUser.set(userId, h)
    this.entries += 1 + h.items.size
  }

  /** Every user's history, least recently active first. */
  [Symbol.iterator] (): IterableIterator<[string, History]> {
    return this.byUser.entries()
  }

  private forget (user: string, h: History): void {
    this.byUser.delete(user)
    this.entries -= 1 + h.items.size
  }
}
