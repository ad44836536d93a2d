/**
 * One /metrics view of the whole process group (WORKERS > 1). A scrape reaches whichever worker
 * the cluster hands the connection to; counting there alone, counters jumped between the workers'
 * values from scrape to scrape and `rate()` was wrong. So the worker that takes a scrape asks the
 * primary, which collects every worker's registry as JSON and merges them with prom-client's
 * AggregatorRegistry.aggregate (counters and histograms summed, gauges by their own `aggregator`).
 *
 * Counters never go backwards: the primary keeps each worker's last collected counters and
 * histograms, uses them for a worker that does not answer in time, and when a worker exits adds
 * them to a retired total that every later scrape includes (its restart starts again from zero).
 */
import { z } from 'zod'
import { AggregatorRegistry, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client'

type MetricJson = MetricObjectWithValues<MetricValue<string>>

/** Every message carries this tag, so other uses of the cluster channel pass through untouched. */
export const METRICS_CHANNEL = 'hashrec:metrics'
/** How long the primary waits for a worker's registry before it uses the last one it has. */
export const COLLECT_TIMEOUT_MS = 1000
/** How long a worker waits for the primary's merged view before it answers with its own. */
export const SCRAPE_TIMEOUT_MS = 3000

const ValueSchema = z.object({ value: z.number(), labels: z.record(z.string(), z.union([z.string(), z.number()])).optional(), metricName: z.string().optional() }).passthrough()
const MetricSchema = z.object({
  name: z.string().min(1).max(200),
  help: z.string().max(2000),
  type: z.enum(['counter', 'gauge', 'histogram', 'summary']),
  values: z.array(ValueSchema),
  aggregator: z.enum(['sum', 'first', 'min', 'max', 'average', 'omit']).optional(),
}).passthrough()
const MetricsJsonSchema = z.array(MetricSchema).max(10_000)

const WorkerMessageSchema = z.discriminatedUnion('op', [
  /** A worker took a scrape: merge everyone's registries and answer with the text. */
  z.object({ ch: z.literal(METRICS_CHANNEL), op: z.literal('scrape'), id: z.number().int().min(0) }).strict(),
  /** A worker's registry, answering `collect` number `id`. */
  z.object({ ch: z.literal(METRICS_CHANNEL), op: z.literal('collected'), id: z.number().int().min(0), metrics: MetricsJsonSchema }).strict(),
])
const PrimaryMessageSchema = z.discriminatedUnion('op', [
  z.object({ ch: z.literal(METRICS_CHANNEL), op: z.literal('collect'), id: z.number().int().min(0) }).strict(),
  z.object({ ch: z.literal(METRICS_CHANNEL), op: z.literal('scraped'), id: z.number().int().min(0), text: z.string() }).strict(),
])
type PrimaryMessage = z.infer<typeof PrimaryMessageSchema>
type WorkerMessage = z.infer<typeof WorkerMessageSchema>

function onMetricsChannel (message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { ch?: unknown }).ch === METRICS_CHANNEL
}

/** Cumulative series: what a retired worker contributes for good. */
const CUMULATIVE = new Set(['counter', 'histogram'])

export interface MetricsHub {
  /** A message from worker `id`; false when it is not on this channel. */
  handle (id: number, message: unknown): boolean
  /** Worker `id` exited: its last counters join the retired totals. */
  retire (id: number): void
  /** The merged text, as a worker's scrape gets it (tests; the primary itself). */
  merged (): Promise<string>
}

export interface MetricsHubOptions {
  /** Sends to one worker. */
  readonly send: (id: number, message: PrimaryMessage) => void
  /** The live workers' ids. */
  readonly workers: () => readonly number[]
  readonly collectTimeoutMs?: number
  /** The primary's own series (worker restarts), merged in. */
  readonly registry?: Registry
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void
}

/** The primary's side. */
export function createMetricsHub (options: MetricsHubOptions): MetricsHub {
  const last = new Map<number, MetricJson[]>()
  let retired: MetricJson[] = []
  // Retirements merge one after another; a scrape waits for those already begun.
  let retiring: Promise<void> = Promise.resolve()
  let nextCollect = 0
  const waiting = new Map<number, Map<number, (metrics: MetricJson[] | null) => void>>()

  function collect (worker: number): Promise<MetricJson[] | null> {
    const id = nextCollect++
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), options.collectTimeoutMs ?? COLLECT_TIMEOUT_MS)
      timer.unref()
      const finish = (metrics: MetricJson[] | null): void => {
        clearTimeout(timer)
        waiting.get(id)?.delete(worker)
        if (waiting.get(id)?.size === 0) waiting.delete(id)
        resolve(metrics)
      }
      let byWorker = waiting.get(id)
      if (byWorker === undefined) waiting.set(id, byWorker = new Map())
      byWorker.set(worker, finish)
      options.send(worker, { ch: METRICS_CHANNEL, op: 'collect', id })
    })
  }

  async function merged (): Promise<string> {
    await retiring
    const ids = options.workers()
    await Promise.all(ids.map(async (w) => {
      const got = await collect(w)
      if (got !== null) last.set(w, got)
    }))
    const parts: MetricJson[][] = []
    // A worker that did not answer counts with its last registry: stale, never lower.
    for (const w of ids) { const m = last.get(w); if (m !== undefined) parts.push(m) }
    if (retired.length > 0) parts.push(retired)
    if (options.registry) parts.push(await options.registry.getMetricsAsJSON())
    return AggregatorRegistry.aggregate(parts).metrics()
  }

  return {
    handle (id, message) {
      if (!onMetricsChannel(message)) return false
      const parsed = WorkerMessageSchema.safeParse(message)
      if (!parsed.success) { options.log?.('ignored a malformed metrics message from a worker', { worker: id }); return true }
      const m: WorkerMessage = parsed.data
      if (m.op === 'collected') {
        waiting.get(m.id)?.get(id)?.(m.metrics as unknown as MetricJson[])
        return true
      }
      merged().then(
        (text) => options.send(id, { ch: METRICS_CHANNEL, op: 'scraped', id: m.id, text }),
        (err: unknown) => options.log?.('merging the workers\' metrics failed', { err: (err as Error).message }),
      )
      return true
    },
    retire (id) {
      const final = last.get(id)
      last.delete(id)
      // Pending collects for it end now (with nothing: its last registry is retired below).
      for (const byWorker of waiting.values()) byWorker.get(id)?.(null)
      if (final === undefined) return
      const cumulative = final.filter((m) => CUMULATIVE.has(String(m.type)))
      retiring = retiring.then(async () => {
        retired = retired.length === 0 ? cumulative : await AggregatorRegistry.aggregate([retired, cumulative]).getMetricsAsJSON()
      }).catch((err: unknown) => options.log?.('merging a retired worker\'s metrics failed', { err: (err as Error).message }))
    },
    merged,
  }
}

/** The primary's own series: how many workers serve and how often one had to be replaced. */
export function createPrimaryRegistry (workers: () => number): { registry: Registry, restarted: () => void } {
  const registry = new Registry()
  const restarts = new Counter({ name: 'hashrec_worker_restarts_total', help: 'Workers replaced after exiting unexpectedly (crash, kill).', registers: [registry] })
  new Gauge({ name: 'hashrec_workers', help: 'Worker processes alive in the cluster.', registers: [registry], aggregator: 'max', collect () { this.set(workers()) } })
  return { registry, restarted: () => restarts.inc() }
}

/** A worker's end of the metrics channel. */
export interface WorkerMetricsChannel {
  /** The merged text of the whole process group (the worker's own when the primary does not answer). */
  scrape (): Promise<string>
  close (): void
}

export function workerMetricsChannel (local: Registry, options: { timeoutMs?: number, send?: (message: unknown) => void, on?: (listener: (message: unknown) => void) => () => void } = {}): WorkerMetricsChannel {
  const send = options.send ?? ((message: unknown) => { if (process.connected && process.send) process.send(message as never, undefined, undefined, () => {}) })
  const subscribe = options.on ?? ((listener: (message: unknown) => void) => { process.on('message', listener); return () => { process.off('message', listener) } })
  const pending = new Map<number, (text: string | null) => void>()
  let next = 0
  const unsubscribe = subscribe((message) => {
    if (!onMetricsChannel(message)) return
    const parsed = PrimaryMessageSchema.safeParse(message)
    if (!parsed.success) return
    const m = parsed.data
    if (m.op === 'scraped') { pending.get(m.id)?.(m.text); return }
    local.getMetricsAsJSON().then(
      (metrics) => send({ ch: METRICS_CHANNEL, op: 'collected', id: m.id, metrics }),
      () => {},
    )
  })
  return {
    async scrape () {
      const id = next++
      const text = await new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => { pending.delete(id); resolve(null) }, options.timeoutMs ?? SCRAPE_TIMEOUT_MS)
        pending.set(id, (t) => { clearTimeout(timer); pending.delete(id); resolve(t) })
        send({ ch: METRICS_CHANNEL, op: 'scrape', id })
      })
      if (text !== null) return text
      return `# the cluster primary did not answer: this worker's series only\n${await local.metrics()}`
    },
    close () {
      unsubscribe()
      for (const resolve of pending.values()) resolve(null)
    },
  }
}
