/**
 * A cluster worker's state store when WORKERS > 1 and REDIS_URL is not set: a full in-process
 * replica (memory-store.ts) kept in step with every other worker's through the primary's
 * replication hub (replication-hub.ts). Reads (history, trending, the active model) are local, so
 * a recommendation pays nothing for the replication. A write goes to the primary, which applies it,
 * numbers it and sends it to every worker; the writer's promise resolves when its own write comes
 * back and is applied here. So a client reads its own writes from the worker that took them, and
 * from the others as soon as they have read the same message from their channel, typically within
 * a millisecond. With Redis every replica reads the one store instead.
 */
import { StateUnavailableError } from './errors.js'
import { createMemoryStore, type MemoryState } from './memory-store.js'
import { CHANNEL, coalescing, MAX_REPLICATED_EVENTS, onChannel, PrimaryMessageSchema, unframe, type WorkerMessage } from './replication.js'
import type { ItemRule, ItemRulePatch } from './item-rules.js'
import type { ActiveModel, InteractionEvent, StateOptions, StateStore } from './types.js'

/** A worker's end of the channel to the primary. */
export interface ReplicaChannel {
  send (message: WorkerMessage): void
  onMessage (listener: (message: unknown) => void): () => void
  readonly connected: boolean
}

/** The cluster worker's IPC channel to its primary; what one loop turn sends goes as one frame. */
export function processChannel (): ReplicaChannel {
  const send = coalescing((frame) => {
    // A closed channel (the primary is gone) reports through the callback, not by throwing.
    if (process.connected && process.send) process.send(frame as never, undefined, undefined, () => {})
  })
  return {
    send,
    onMessage (listener) {
      process.on('message', listener)
      return () => { process.off('message', listener) }
    },
    get connected () { return process.connected === true },
  }
}

export interface ReplicatedStoreOptions extends Partial<StateOptions> {
  /** This worker's id as the primary knows it (cluster.worker.id). */
  readonly id: number
  /** How long a write waits for the primary's acknowledgement before it is refused. */
  readonly writeTimeoutMs: number
  /**
   * How long opening waits for the primary's snapshot, or for its next part: a large state comes
   * in many parts (10M history entries took ~15 s to copy in an ad-hoc run), each resets the wait.
   */
  readonly startTimeoutMs?: number
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void
}

interface Pending {
  /** With the merged rule of a rule write (undefined for other writes). */
  resolve (rule: ItemRule | null | undefined): void
  reject (err: Error): void
  timer: NodeJS.Timeout
}

export interface ReplicatedStore extends StateStore {
  /** The number of the last write applied here (the primary's sequence). */
  readonly seq: number
}

/** Resolves once the primary's snapshot is in; rejects after startTimeoutMs without one (or without its next part). */
export async function openReplicatedStore (channel: ReplicaChannel, options: ReplicatedStoreOptions): Promise<ReplicatedStore> {
  const local = createMemoryStore(options)
  const log = options.log ?? (() => {})
  const pending = new Map<number, Pending>()
  let seq = -1
  let synced = false
  // Snapshot parts received so far, all of write number partsSeq.
  let parts: MemoryState[] = []
  let partsSeq = -1
  let nextReq = 0
  let onSynced: (() => void) | null = null
  let onPart: (() => void) | null = null

  function settle (req: number, err: Error | null, rule?: ItemRule | null): void {
    const p = pending.get(req)
    if (!p) return
    pending.delete(req)
    clearTimeout(p.timer)
    if (err) p.reject(err)
    else p.resolve(rule)
  }

  const unsubscribe = channel.onMessage((message) => {
    if (!onChannel(message)) return
    const messages = unframe(message)
    if (messages === null) { log('ignored a malformed state frame from the primary'); return }
    for (const m of messages) receive(m)
  })

  function receive (message: unknown): void {
    const parsed = PrimaryMessageSchema.safeParse(message)
    if (!parsed.success) { log('ignored a malformed state message from the primary', { error: parsed.error.message }); return }
    const m = parsed.data
    if (m.op === 'refused') { settle(m.req, new Error(`the cluster primary refused the write: ${m.reason}`)); return }
    if (m.op === 'snapshot') {
      if (synced) return // only an answer to this replica's own hello comes here
      // Parts arrive in order on the ordered channel; one out of order means a broken stream: ask again.
      if (m.part !== parts.length || (m.part > 0 && m.seq !== partsSeq)) {
        log('state snapshot parts out of order: asking again', { expected: parts.length, got: m.part })
        parts = []
        channel.send({ ch: CHANNEL, op: 'hello' })
        return
      }
      parts.push(m.state)
      partsSeq = m.seq
      onPart?.()
      if (!m.last) return
      const before = local.active
      local.importParts(parts)
      parts = []
      seq = m.seq
      synced = true
      const after = m.state.active
      if (after !== null && (before?.version !== after.version || before.path !== after.path)) local.setActive(after)
      onSynced?.()
      return
    }
    // Writes numbered up to the snapshot's are in it; the channel is ordered, so nothing is skipped.
    if (!synced || m.seq <= seq) return
    if (m.seq !== seq + 1) {
      // Cannot happen on an ordered channel; if it did, start over from a fresh snapshot.
      log('state replica missed writes: resynchronising', { expected: seq + 1, got: m.seq })
      synced = false
      channel.send({ ch: CHANNEL, op: 'hello' })
      return
    }
    seq = m.seq
    if (m.op === 'events') local.applyEvents(m.events, m.t)
    else if (m.op === 'rule') local.applyRule(m.change)
    else local.setActive(m.model)
    if (m.origin === options.id) settle(m.req, null, m.op === 'rule' ? m.change.rule : undefined)
  }

  function write (message: (req: number) => WorkerMessage, what: string): Promise<ItemRule | null | undefined> {
    if (!channel.connected) return Promise.reject(new StateUnavailableError('the cluster primary is gone'))
    const req = nextReq++
    return new Promise<ItemRule | null | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(req)
        reject(new StateUnavailableError(`the cluster primary did not acknowledge ${what} within ${options.writeTimeoutMs} ms`))
      }, options.writeTimeoutMs)
      pending.set(req, { resolve, reject, timer })
      channel.send(message(req))
    })
  }

  await new Promise<void>((resolve, reject) => {
    const wait = options.startTimeoutMs ?? 10_000
    const expire = (): void => {
      unsubscribe()
      reject(new Error(`no state snapshot from the cluster primary within ${wait} ms`))
    }
    let timer = setTimeout(expire, wait)
    onPart = () => { clearTimeout(timer); timer = setTimeout(expire, wait) }
    onSynced = () => { clearTimeout(timer); onSynced = null; onPart = null; resolve() }
    channel.send({ ch: CHANNEL, op: 'hello' })
  })

  return {
    kind: 'replicated',
    get seq () { return seq },
    async recordEvents (events: readonly InteractionEvent[]): Promise<void> {
      if (events.length === 0) return
      // One message is one write, all or nothing; the events route sends at most 1000.
      if (events.length > MAX_REPLICATED_EVENTS) throw new RangeError(`at most ${MAX_REPLICATED_EVENTS} events per write, got ${events.length}`)
      const plain = events.map((e) => e.value === undefined
        ? { userId: e.userId, itemId: e.itemId, type: e.type, timestamp: e.timestamp }
        : { userId: e.userId, itemId: e.itemId, type: e.type, value: e.value, timestamp: e.timestamp })
      await write((req) => ({ ch: CHANNEL, op: 'events', req, events: plain }), `${events.length} event(s)`)
    },
    // Reads are the local replica's: in this process, so synchronous too.
    now: local.now,
    recentItems: (userId, limit) => local.recentItems(userId, limit),
    trending: (limit) => local.trending(limit),
    getActiveModel: () => local.getActiveModel(),
    async publishActiveModel (model: ActiveModel): Promise<void> {
      await write((req) => ({ ch: CHANNEL, op: 'active', req, model }), 'the active model')
    },
    onActiveModel: (listener) => local.onActiveModel(listener),
    rules: local.rules,
    async patchItemRule (itemId: string, patch: ItemRulePatch): Promise<ItemRule | null> {
      return (await write((req) => ({ ch: CHANNEL, op: 'rule', req, itemId, patch }), `a rule of item ${JSON.stringify(itemId)}`)) ?? null
    },
    async ping (): Promise<boolean> {
      return synced && channel.connected
    },
    async close (): Promise<void> {
      unsubscribe()
      for (const req of [...pending.keys()]) settle(req, new StateUnavailableError('the state store is closed'))
      await local.close()
    },
  }
}
