/**
 * The cluster primary (WORKERS > 1): forks the workers, which each load the model and listen on the
 * shared port (node:cluster hands accepted connections to workers round-robin), restarts a crashed
 * worker with exponential backoff, and forwards SIGTERM/SIGINT so every worker drains through its
 * own close-with-grace. The primary serves nothing and holds no model; without REDIS_URL it keeps
 * the workers' in-process state in step (events, history, trending, the active model).
 *
 * Why processes: a request is CPU work on one JS thread (search, serialization), so one process
 * uses one core; each worker holds its own copy of the model (typed arrays are not shared between
 * processes), the memory cost measured in the README. A worker listens only once its model is
 * loaded, so a restarting worker never receives connections it cannot serve while the others do.
 */
import cluster, { type Worker } from 'node:cluster'
import { createMetricsHub, createPrimaryRegistry } from './cluster-metrics.js'
import { createReplicationHub } from './state/replication-hub.js'
import { coalescing } from './state/replication.js'
import type { StateOptions } from './state/types.js'
import { workerExecArgv } from './util/node-flags.js'

export interface ClusterOptions {
  readonly workers: number
  /** Workers get this long to drain after the signal before they are killed (their own delay + 1 s). */
  readonly shutdownDelayMs: number
  /** Backoff before the first restart; doubles per crash in a row, up to 30 s. */
  readonly restartBaseMs?: number
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void
  /**
   * In-process state for the workers (no REDIS_URL): the primary keeps the replication hub that
   * holds them in step (src/state/replication-hub.ts). Null when the workers share Redis instead.
   */
  readonly state?: Partial<StateOptions> | null
}

/** A worker that lived this long before crashing resets the backoff: it was not a crash loop. */
const STABLE_MS = 30_000
const MAX_BACKOFF_MS = 30_000

function jsonLog (msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, role: 'primary', ...fields, msg })}\n`)
}

export function runPrimary (options: ClusterOptions): void {
  const log = options.log ?? jsonLog
  const base = options.restartBaseMs ?? 500
  let stopping = false
  let crashesInARow = 0
  const startedAt = new Map<Worker, number>()
  const pendingRestarts = new Set<NodeJS.Timeout>()

  if (options.state) {
    // One frame per worker per loop turn (src/state/replication.ts coalescing), in order.
    const outboxes = new Map<Worker, (message: unknown) => void>()
    const send = (w: Worker, message: unknown): void => {
      let outbox = outboxes.get(w)
      if (outbox === undefined) {
        // A worker that just died has a closed channel: its replacement asks for a snapshot anyway.
        outbox = coalescing((frame) => { if (w.isConnected()) w.send(frame as never, undefined, () => {}) })
        outboxes.set(w, outbox)
      }
      outbox(message)
    }
    cluster.on('exit', (w) => { outboxes.delete(w) })
    const hub = createReplicationHub({
      ...options.state,
      send: (id, message) => { const w = cluster.workers?.[id]; if (w) send(w, message) },
      broadcast: (message) => { for (const w of Object.values(cluster.workers ?? {})) if (w) send(w, message) },
      log,
    })
    cluster.on('message', (worker, message) => { hub.handle(worker.id, message) })
  }

  // /metrics on any worker answers the merge of every worker's registry, counters kept monotonic
  // across worker restarts (src/cluster-metrics.ts).
  const own = createPrimaryRegistry(() => startedAt.size)
  const metricsHub = createMetricsHub({
    send: (id, message) => { const w = cluster.workers?.[id]; if (w?.isConnected() === true) w.send(message as never, undefined, () => {}) },
    workers: () => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && w.isConnected()).map((w) => w!.id),
    registry: own.registry,
    log,
  })
  cluster.on('message', (worker, message) => { metricsHub.handle(worker.id, message) })
  cluster.on('exit', (worker) => { metricsHub.retire(worker.id) })

  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv) })
  const fork = (): void => {
    const w = cluster.fork()
    startedAt.set(w, Date.now())
  }

  // What a supervisor (and the cluster tests) wait on: a worker listens only once it can serve.
  cluster.on('listening', (worker, address) => { log('worker listening', { worker: worker.process.pid, port: address.port }) })

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now())
    startedAt.delete(worker)
    if (stopping) {
      log('worker stopped', { worker: worker.process.pid, code, signal })
      if (startedAt.size === 0) {
        log('all workers stopped')
        process.exit(0)
      }
      return
    }
    own.restarted()
    crashesInARow = lived >= STABLE_MS ? 1 : crashesInARow + 1
    const delay = Math.min(MAX_BACKOFF_MS, base * 2 ** (crashesInARow - 1))
    log('worker exited unexpectedly: restarting', { worker: worker.process.pid, code, signal, livedMs: lived, restartInMs: delay })
    const t = setTimeout(() => { pendingRestarts.delete(t); if (!stopping) fork() }, delay)
    pendingRestarts.add(t)
  })

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    for (const t of pendingRestarts) clearTimeout(t)
    log('shutting down: draining workers', { signal, workers: startedAt.size })
    if (startedAt.size === 0) process.exit(0)
    for (const w of startedAt.keys()) w.process.kill(signal)
    setTimeout(() => {
      for (const w of startedAt.keys()) w.process.kill('SIGKILL')
    }, options.shutdownDelayMs + 1000).unref()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  log('starting workers', { workers: options.workers })
  for (let i = 0; i < options.workers; i++) fork()
}
