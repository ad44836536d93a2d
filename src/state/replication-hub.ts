/**
 * The cluster primary's side of in-process state shared by workers (no REDIS_URL, WORKERS > 1).
 * The primary holds one more replica: it applies every write first, numbers it, and sends it to
 * every worker (the writer included, which is how a writer learns its write is in). A worker that
 * starts, or restarts after a crash, gets the whole state as of the last number, then every write
 * after it. One sequencer and ordered channels make every replica apply the same writes in the
 * same order at the same times: the same history, trending and active model on every worker.
 */
import { createMemoryStore, type MemoryState } from './memory-store.js'
import { onChannel, SNAPSHOT_PART_ENTRIES, unframe, WorkerMessageSchema, type PrimaryMessage, CHANNEL } from './replication.js'
import type { StateOptions } from './types.js'

export interface ReplicationHub {
  /** A message from worker `id` (others on the channel are ignored: false). */
  handle (id: number, message: unknown): boolean
  /** Writes applied so far. */
  readonly seq: number
}

export interface HubOptions extends Partial<StateOptions> {
  /** Sends to one worker. */
  readonly send: (id: number, message: PrimaryMessage) => void
  /** Sends to every live worker. */
  readonly broadcast: (message: PrimaryMessage) => void
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void
  /** Entries per snapshot part (default SNAPSHOT_PART_ENTRIES; tests use a few). */
  readonly snapshotPartEntries?: number
}

export function createReplicationHub (options: HubOptions): ReplicationHub {
  const { send, broadcast } = options
  const now = options.now ?? Date.now
  const replica = createMemoryStore(options)
  let seq = 0
  return {
    get seq () { return seq },
    handle (id, message) {
      if (!onChannel(message)) return false
      const messages = unframe(message)
      if (messages === null) { options.log?.('ignored a malformed frame from a worker', { worker: id }); return true }
      for (const m of messages) one(id, m)
      return true
    },
  }

  function one (id: number, message: unknown): void {
    const parsed = WorkerMessageSchema.safeParse(message)
    if (!parsed.success) {
      const req = typeof message === 'object' && message !== null ? (message as { req?: unknown }).req : undefined
      options.log?.('refused a state write from a worker', { worker: id, error: parsed.error.message })
      if (typeof req === 'number' && Number.isInteger(req) && req >= 0) send(id, { ch: CHANNEL, op: 'refused', req, reason: parsed.error.message })
      return
    }
    const m = parsed.data
    switch (m.op) {
      case 'hello': {
        // Parts are sent as they are made, each flagged whether more follow.
        let part = 0
        let pending: MemoryState | null = null
        for (const state of replica.exportParts(options.snapshotPartEntries ?? SNAPSHOT_PART_ENTRIES)) {
          if (pending !== null) send(id, { ch: CHANNEL, op: 'snapshot', seq, part: part++, last: false, state: pending })
          pending = state
        }
        send(id, { ch: CHANNEL, op: 'snapshot', seq, part, last: true, state: pending! })
        break
      }
      case 'events': {
        const t = now()
        replica.applyEvents(m.events, t)
        broadcast({ ch: CHANNEL, op: 'events', seq: ++seq, t, origin: id, req: m.req, events: m.events })
        break
      }
      case 'active':
        replica.setActive(m.model)
        broadcast({ ch: CHANNEL, op: 'active', seq: ++seq, origin: id, req: m.req, model: m.model })
        break
      case 'rule':
        broadcast({ ch: CHANNEL, op: 'rule', seq: ++seq, origin: id, req: m.req, change: replica.patchRule(m.itemId, m.patch, now()) })
        break
    }
  }
}
