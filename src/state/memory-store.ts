/**
 * The in-process StateStore: what a single replica uses when REDIS_URL is not set. Same contract
 * and decay arithmetic as the Redis store, so the behavioural suite runs against both.
 *
 * It is also the replica that cluster workers keep (replicated-store.ts): events are applied at a
 * time the caller gives, and the whole state exports to and imports from a plain snapshot, so
 * every replica that applies the same events in the same order at the same times holds the same
 * state, sweeps included.
 */
import { EventEmitter } from 'node:events'
import { boost, decayed, eraOf, mergeRaw } from './decay.js'
import { RuleBook, type ItemRule, type ItemRulePatch, type RuleChange } from './item-rules.js'
import { DEFAULT_STATE_OPTIONS, type ActiveModel, type InteractionEvent, type StateOptions, type StateStore, type SyncReads, type TrendingItem, EVENT_WEIGHTS } from './types.js'

interface History {
  /** itemId -> latest timestamp */
  readonly items: Map<string, number>
  expiresAt: number
  /** The ids newest first, kept from the last read until the next write: reads outnumber writes. */
  ordered: readonly string[] | null
}

/** Everything the store holds, as plain arrays (JSON over the cluster's IPC channel). */
export interface MemoryState {
  /** [userId, expiresAt, [itemId, timestamp][]] */
  readonly histories: Array<[string, number, Array<[string, number]>]>
  /** [era, [itemId, raw score][]] */
  readonly eras: Array<[number, Array<[string, number]>]>
  readonly active: ActiveModel | null
  /** Events applied since the last sweep. */
  readonly writes: number
  /** [itemId, rule] (item-rules.ts), and the rule book's version. */
  readonly rules: Array<[string, ItemRule]>
  readonly rulesVersion: number
}

/** The history of a user without one (or whose history expired): one frozen array for all. */
const NO_ITEMS: readonly string[] = Object.freeze([])

export interface MemoryStore extends StateStore {
  readonly kind: 'memory'
  readonly now: SyncReads
  /** recordEvents at time t (ms): what decides expiry and sweeps, so replicas given the same t agree. */
  applyEvents (events: readonly InteractionEvent[], t: number): void
  /** The active model, read synchronously. */
  readonly active: ActiveModel | null
  /** Merges a patch into an item's rule at time t (ms), as the next rule version; returns the change (the cluster primary's side). */
  patchRule (itemId: string, patch: ItemRulePatch, t: number): RuleChange
  /** Applies a change merged elsewhere (a cluster worker's side) as the next rule version. */
  applyRule (change: RuleChange): void
  /** Sets the active model and tells the onActiveModel listeners. */
  setActive (model: ActiveModel): void
  exportState (): MemoryState
  /**
   * The state in parts of about `maxEntries` history and trending entries each (one user's history
   * is never split), the first with at least the active model: a large state crosses a process
   * boundary as several messages, not one string past V8's limit. Always at least one part.
   */
  exportParts (maxEntries: number): Generator<MemoryState>
  /** Replaces the whole state (listeners stay; none is told). */
  importState (state: MemoryState): void
  /** Replaces the whole state with the union of exported parts. */
  importParts (parts: readonly MemoryState[]): void
}

/** The item with the smallest timestamp; among equals the largest id (recentItems lists it last). */
function oldestItem (items: Map<string, number>): string {
  let id = ''
  let ts = Infinity
  for (const [itemId, t] of items) if (t < ts || (t === ts && itemId > id)) { id = itemId; ts = t }
  return id
}

/**
 * The n highest-scored entries of `scores`, best first; equal scores in the map's insertion order
 * (what a stable sort of all entries by score gives). A bounded min-heap over one pass: O(N log n)
 * instead of copying and sorting all N, which for a catalog-wide trending era (~10k items after
 * the bench:http events mix on MovieLens) took most of a cold-start request.
 */
export function topByScore (scores: ReadonlyMap<string, number>, n: number): Array<[string, number]> {
  if (n <= 0) return []
  // heap[0] is the worst kept entry: the lowest score, the latest inserted among equals.
  const ids: string[] = []
  const vals: number[] = []
  const order: number[] = []
  const worse = (a: number, b: number): boolean => vals[a] < vals[b] || (vals[a] === vals[b] && order[a] > order[b])
  const swap = (a: number, b: number): void => {
    const id = ids[a]; ids[a] = ids[b]; ids[b] = id
    const v = vals[a]; vals[a] = vals[b]; vals[b] = v
    const o = order[a]; order[a] = order[b]; order[b] = o
  }
  let i = 0
  for (const [id, v] of scores) {
    if (ids.length < n) {
      ids.push(id); vals.push(v); order.push(i)
      for (let c = ids.length - 1; c > 0;) {
        const p = (c - 1) >> 1
        if (!worse(c, p)) break
        swap(c, p)
        c = p
      }
    } else if (v > vals[0]) {
      // Better than the worst kept (an equal score inserted later is not: the earlier one stays).
      ids[0] = id; vals[0] = v; order[0] = i
      for (let c = 0; ;) {
        const l = 2 * c + 1
        const r = l + 1
        let w = c
        if (l < ids.length && worse(l, w)) w = l
        if (r < ids.length && worse(r, w)) w = r
        if (w === c) break
        swap(c, w)
        c = w
      }
    }
    i++
  }
  const idx = ids.map((_, j) => j).sort((a, b) => vals[b] - vals[a] || order[a] - order[b])
  return idx.map((j) => [ids[j], vals[j]])
}

/**
 * Keeps a top list (`topByScore(scores, n)`) exact as one item's score rises to `score`; false when
 * it cannot, and the list must be recomputed. Scores only grow (every event adds a positive boost),
 * so an item outside the list can enter only past its last entry, and one inside can only move up.
 * Recomputing the list after every write cost ~300 µs at 10k items for the next cold-start read
 * (bench/realtime/trending.ts). Equal scores rank in insertion order, which the list does not hold
 * for items already in the map: such a tie gives up. A new item (`isNew`) is the latest inserted,
 * so it goes after its equals.
 */
export function raiseInTop (top: { readonly n: number, readonly list: Array<[string, number]> }, itemId: string, score: number, isNew: boolean): boolean {
  const { list, n } = top
  if (n <= 0) return true
  let i = list.findIndex(([id]) => id === itemId)
  if (i < 0) {
    // Not kept: a full list (every item kept while it is shorter than n) takes it only past its last entry.
    if (list.length >= n) {
      const last = list[list.length - 1][1]
      if (score < last || (score === last && isNew)) return true
      if (score === last) return false
      list.pop()
    }
    list.push([itemId, score])
    i = list.length - 1
  } else {
    list[i] = [itemId, score]
  }
  while (i > 0 && list[i - 1][1] <= score) {
    if (list[i - 1][1] === score) {
      if (isNew) break
      return false
    }
    const above = list[i - 1]; list[i - 1] = list[i]; list[i] = above
    i--
  }
  return true
}

/** Expired histories are swept every this many writes, so memory tracks active users only. */
const SWEEP_EVERY = 10_000

/**
 * Trending scores by era (decay.ts). Each era's top entries are kept exact through writes by
 * raiseInTop, so a read costs a slice; the merged trending list is kept until the next write.
 */
class TrendingEras {
  readonly eras = new Map<number, Map<string, number>>()
  private version = 0
  private readonly topMemo = new Map<number, { n: number, list: Array<[string, number]> }>()
  private merged: { version: number, era: number, limit: number, list: ReadonlyArray<readonly [string, number]> } | undefined

  constructor (private readonly halfLifeMs: number) {}

  /** One event's weight for `itemId` at `timestamp`, in the era it falls in. */
  add (itemId: string, weight: number, timestamp: number): void {
    const era = eraOf(timestamp, this.halfLifeMs)
    let scores = this.eras.get(era)
    if (!scores) this.eras.set(era, scores = new Map())
    const before = scores.get(itemId)
    const score = (before ?? 0) + boost(weight, timestamp, era, this.halfLifeMs)
    scores.set(itemId, score)
    const memo = this.topMemo.get(era)
    if (memo !== undefined && !raiseInTop(memo, itemId, score, before === undefined)) this.topMemo.delete(era)
    this.version++
  }

  /** Drops the eras older than the previous one at time t: they no longer count. */
  sweep (t: number): void {
    const era = eraOf(t, this.halfLifeMs)
    for (const e of this.eras.keys()) if (e < era - 1) { this.eras.delete(e); this.topMemo.delete(e) }
  }

  clear (): void {
    this.eras.clear()
    this.topMemo.clear()
    this.version++
  }

  /** Raw scores of an era from a snapshot, added to what the era holds. */
  load (era: number, scores: Iterable<readonly [string, number]>): void {
    let m = this.eras.get(era)
    if (!m) this.eras.set(era, m = new Map())
    for (const [id, score] of scores) m.set(id, score)
  }

  /** The `limit` best items at time t, decayed to it. */
  read (limit: number, t: number): TrendingItem[] {
    const era = eraOf(t, this.halfLifeMs)
    // Every request of a user without signal asks. The merge (a Map and a sort of up to 8 x limit
    // entries, ~30 µs for trending(100) over 10k items: bench/realtime/trending.ts) is kept until
    // the next write or era, and a read only scales the kept order to its time.
    let m = this.merged
    if (m === undefined || m.version !== this.version || m.era !== era || m.limit !== limit) {
      this.merged = m = { version: this.version, era, limit, list: mergeRaw(this.top(era, limit * 4), this.top(era - 1, limit * 4), limit) }
    }
    return decayed(m.list, t, era, this.halfLifeMs)
  }

  private top (era: number, n: number): Array<[string, number]> {
    const scores = this.eras.get(era)
    if (!scores) return []
    const memo = this.topMemo.get(era)
    if (memo !== undefined && memo.n >= n) return memo.list.length > n ? memo.list.slice(0, n) : memo.list
    const list = topByScore(scores, n)
    this.topMemo.set(era, { n, list })
    return list
  }
}

export function createMemoryStore (options: Partial<StateOptions> = {}): MemoryStore {
  const opts = { ...DEFAULT_STATE_OPTIONS, ...options }
  const now = opts.now ?? Date.now
  const halfLifeMs = opts.trendingHalfLifeSeconds * 1000
  const histories = new Map<string, History>()
  const trending = new TrendingEras(halfLifeMs)
  const emitter = new EventEmitter()
  let active: ActiveModel | null = null
  let writes = 0
  const rules = new RuleBook()

  function sweep (t: number): void {
    for (const [user, h] of histories) if (h.expiresAt <= t) histories.delete(user)
    trending.sweep(t)
  }

  function applyEvents (events: readonly InteractionEvent[], t: number): void {
    for (const e of events) {
      let h = histories.get(e.userId)
      if (!h || h.expiresAt <= t) {
        h = { items: new Map(), expiresAt: 0, ordered: null }
        histories.set(e.userId, h)
      }
      h.ordered = null
      h.items.set(e.itemId, Math.max(h.items.get(e.itemId) ?? -Infinity, e.timestamp))
      h.expiresAt = t + opts.historyTtlSeconds * 1000
      // One over the cap: drop the oldest (the last in recentItems' order), one scan and no copy.
      // Sorting the whole history for each event of a user at the cap cost more than the rest of
      // the event (bench:http events mix, WORKERS=2: applyEvents 5-6% of a worker's time).
      if (h.items.size > opts.historyLength) h.items.delete(oldestItem(h.items))
      trending.add(e.itemId, EVENT_WEIGHTS[e.type], e.timestamp)
    }
    writes += events.length
    if (writes >= SWEEP_EVERY) { writes = 0; sweep(t) }
  }

  function * exportParts (maxEntries: number): Generator<MemoryState> {
    const empty = (): { histories: MemoryState['histories'], eras: MemoryState['eras'], active: ActiveModel | null, writes: number, rules: MemoryState['rules'], rulesVersion: number } =>
      ({ histories: [], eras: [], active, writes, rules: [], rulesVersion: rules.version })
    let part = empty()
    let entries = 0
    let yielded = 0
    const next = (): void => { part = empty(); entries = 0; yielded++ }
    for (const entry of rules.entries()) {
      part.rules.push(entry)
      if (++entries >= maxEntries) { yield part; next() }
    }
    for (const [era, scores] of trending.eras) {
      let chunk: Array<[string, number]> = []
      for (const entry of scores) {
        chunk.push(entry)
        if (++entries >= maxEntries) {
          part.eras.push([era, chunk])
          chunk = []
          yield part
          next()
        }
      }
      if (chunk.length > 0) part.eras.push([era, chunk])
    }
    for (const [user, h] of histories) {
      part.histories.push([user, h.expiresAt, [...h.items]])
      entries += 1 + h.items.size
      if (entries >= maxEntries) { yield part; next() }
    }
    if (entries > 0 || yielded === 0) yield part
  }

  function importParts (parts: readonly MemoryState[]): void {
    histories.clear()
    trending.clear()
    rules.reset(parts.flatMap((state) => state.rules), parts[parts.length - 1]?.rulesVersion ?? 0)
    for (const state of parts) {
      for (const [user, expiresAt, items] of state.histories) histories.set(user, { items: new Map(items), expiresAt, ordered: null })
      for (const [era, scores] of state.eras) trending.load(era, scores)
      active = state.active
      writes = state.writes
    }
  }

  function setActive (model: ActiveModel): void {
    active = model
    emitter.emit('active', model)
  }

  const reads: SyncReads = {
    recentItems (userId, limit) {
      const h = histories.get(userId)
      if (!h || h.expiresAt <= now()) return NO_ITEMS
      // Sorted once per change, not per request: a 200-item history cost a sort and three arrays per
      // recommendation. Frozen and handed out as is while it fits the limit (the service asks for
      // the whole history): the same array until the next event lets a caller keep it without a
      // copy and compare it at once (the result cache checks kept answers against it).
      h.ordered ??= Object.freeze([...h.items].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id))
      return limit >= h.ordered.length ? h.ordered : h.ordered.slice(0, limit)
    },
    trending: (limit) => trending.read(limit, now()),
  }

  return {
    kind: 'memory',
    get active () { return active },
    applyEvents,
    setActive,
    rules,
    patchRule: (itemId, patch, t) => rules.patch(itemId, patch, new Date(t).toISOString()),
    applyRule: (change) => { rules.apply(change) },
    async patchItemRule (itemId: string, patch: ItemRulePatch): Promise<ItemRule | null> {
      return rules.patch(itemId, patch, new Date(now()).toISOString()).rule
    },
    exportState () {
      return exportParts(Infinity).next().value as MemoryState
    },
    exportParts,
    importState (state: MemoryState): void {
      importParts([state])
    },
    importParts,
    async recordEvents (events: readonly InteractionEvent[]): Promise<void> {
      applyEvents(events, now())
    },
    now: reads,
    async recentItems (userId: string, limit: number): Promise<readonly string[]> {
      return reads.recentItems(userId, limit)
    },
    async trending (limit: number): Promise<TrendingItem[]> {
      return reads.trending(limit)
    },
    async getActiveModel (): Promise<ActiveModel | null> {
      return active
    },
    async publishActiveModel (model: ActiveModel): Promise<void> {
      setActive(model)
    },
    onActiveModel (listener: (model: ActiveModel) => void): () => void {
      emitter.on('active', listener)
      return () => emitter.off('active', listener)
    },
    async ping (): Promise<boolean> {
      return true
    },
    async close (): Promise<void> {
      emitter.removeAllListeners()
    },
  }
}
