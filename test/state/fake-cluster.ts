/**
 * A cluster in one process for the replicated store's tests: a replication hub and any number of
 * worker channels, every message JSON-copied (as node:cluster's IPC does) and delivered on a later
 * turn, in order per channel, what one turn sends coalesced into one frame as the real transports do.
 */
import { createReplicationHub, type ReplicationHub } from '../../src/state/replication-hub.js'
import { coalescing, type PrimaryMessage } from '../../src/state/replication.js'
import { openReplicatedStore, type ReplicaChannel, type ReplicatedStore, type ReplicatedStoreOptions } from '../../src/state/replicated-store.js'
import type { StateOptions } from '../../src/state/types.js'

export interface FakeWorker {
  readonly channel: ReplicaChannel
  /** Messages the worker received, in order (before its store parsed them). */
  readonly received: unknown[]
  connected: boolean
  /** Drops the next primary messages for which this returns true (tests of gaps). */
  drop?: (message: PrimaryMessage) => boolean
}

export interface FakeCluster {
  readonly hub: ReplicationHub
  readonly workers: Map<number, FakeWorker>
  worker (id: number): FakeWorker
  open (id: number, extra?: Partial<ReplicatedStoreOptions>): Promise<ReplicatedStore>
  /** Resolves after every message sent so far has been delivered (and any it caused, to a depth). */
  settle (): Promise<void>
}

const copy = <T>(m: T): T => JSON.parse(JSON.stringify(m)) as T

export function fakeCluster (options: Partial<StateOptions> = {}, hubLog?: (msg: string) => void, snapshotPartEntries?: number): FakeCluster {
  const workers = new Map<number, FakeWorker & { listeners: Set<(m: unknown) => void>, outbox: (m: unknown) => void }>()
  const post = (id: number, message: PrimaryMessage): void => {
    const w = workers.get(id)
    if (!w?.connected) return
    if (w.drop?.(message)) return
    w.outbox(message)
  }
  const hub = createReplicationHub({
    ...options,
    send: post,
    broadcast: (message) => { for (const id of workers.keys()) post(id, message) },
    log: hubLog,
    snapshotPartEntries,
  })
  const worker = (id: number): FakeWorker => {
    let w = workers.get(id)
    if (!w) {
      const listeners = new Set<(m: unknown) => void>()
      const toHub = coalescing((frame) => { const m = copy(frame); setImmediate(() => { if (self.connected) hub.handle(id, m) }) })
      const self: FakeWorker & { listeners: Set<(m: unknown) => void>, outbox: (m: unknown) => void } = {
        listeners,
        received: [],
        connected: true,
        outbox: coalescing((frame) => { const m = copy(frame); setImmediate(() => { self.received.push(m); for (const l of listeners) l(m) }) }),
        channel: {
          send: toHub,
          onMessage: (l) => { listeners.add(l); return () => { listeners.delete(l) } },
          get connected () { return self.connected },
        },
      }
      workers.set(id, w = self)
    }
    return w
  }
  return {
    hub,
    workers,
    worker,
    open: (id, extra = {}) => openReplicatedStore(worker(id).channel, { ...options, id, writeTimeoutMs: 1000, ...extra }),
    async settle () { for (let i = 0; i < 8; i++) await new Promise((resolve) => setImmediate(resolve)) },
  }
}

/** A worker's channel driven by hand: what the replica sends lands in `outbox`, `deliver` plays the primary. */
export function manualChannel (): { channel: ReplicaChannel, outbox: unknown[], deliver: (message: unknown) => void } {
  const listeners = new Set<(m: unknown) => void>()
  const outbox: unknown[] = []
  const channel: ReplicaChannel = { send: (m) => { outbox.push(m) }, onMessage: (l) => { listeners.add(l); return () => { listeners.delete(l) } }, connected: true }
  return { channel, outbox, deliver: (m) => { for (const l of listeners) l(m) } }
}
