/**
 * Prometheus metrics on a registry of our own (prom-client's global one would leak between apps
 * built in one process, as tests do). Every label is bounded: routes are fastify's route templates
 * (or `unmatched`), methods and recommendation methods are closed sets, status codes are at most
 * ~60 values, and the model info gauge is reset on every swap so it holds one label set.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client'
import { workerMetricsChannel, type WorkerMetricsChannel } from '../cluster-metrics.js'
import type { Model } from '../model-loader/model.js'
import type { RecommenderStats } from '../recommend/recommender.js'
import type { WarmUpReport } from '../recommend/warm-up.js'
import type { SearchStats } from '../search/types.js'

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** One label set of a histogram: per-bucket counts, filled cumulatively only at scrape time. */
export class HistogramChild {
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor (readonly bounds: Float64Array, readonly labels: Readonly<Record<string, string>>) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (value: number): void {
    const b = this.bounds
    let i = 0
    while (i < b.length && value > b[i]) i++
    this.counts[i]++
    this.sum += value
    this.count++
  }
}

/**
 * A histogram whose children are resolved once and then observed without hashing labels.
 * prom-client's Histogram hashes the label object on every observe (~1.4 us each, measured in a
 * CPU profile of bench/http/overhead.ts: 4 us of a ~60 us request for three observations); this
 * registers with the same Registry and prints the same exposition format.
 */
export class FastHistogram {
  readonly type = 'histogram'
  private readonly bounds: Float64Array
  private readonly children = new Map<string, HistogramChild>()

  constructor (readonly name: string, readonly help: string, readonly labelNames: readonly string[], buckets: readonly number[]) {
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b))
  }

  /** The child for these label values (created on first use; callers keep it). */
  child (...values: string[]): HistogramChild {
    const key = values.join('\u0000')
    let c = this.children.get(key)
    if (c === undefined) {
      const labels: Record<string, string> = {}
      this.labelNames.forEach((n, i) => { labels[n] = values[i] })
      c = new HistogramChild(this.bounds, labels)
      this.children.set(key, c)
    }
    return c
  }

  async get (): Promise<{ name: string, help: string, type: 'histogram', aggregator: 'sum', values: { labels: Record<string, string | number>, value: number, metricName: string }[] }> {
    const values: { labels: Record<string, string | number>, value: number, metricName: string }[] = []
    for (const c of this.children.values()) {
      let acc = 0
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i]
        values.push({ labels: { le: this.bounds[i], ...c.labels }, value: acc, metricName: `${this.name}_bucket` })
      }
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: `${this.name}_bucket` })
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values }
  }

  reset (): void { this.children.clear() }
}

export interface Metrics {
  readonly registry: Registry
  /** The text /metrics answers: this process's registry, or with WORKERS > 1 the whole group's (src/cluster-metrics.ts). */
  exposition (): Promise<string>
  readonly requestDuration: FastHistogram
  /** One answer's latency, and its candidates examined unless it searched nothing (a cached answer). */
  observeRecommendation (method: string, seconds: number, candidatesExamined: number | undefined): void
  /** The active model, and the running search counts of its engines (when they keep any). */
  setModel (model: Model, stats?: Readonly<SearchStats>, recommender?: Readonly<RecommenderStats>): void
  reload (result: 'success' | 'refused' | 'error'): void
  /** The last warm-up's outcome (src/recommend/warm-up.ts). */
  warmUp (report: WarmUpReport): void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * A counter over plain counts kept by the active model's objects (the engines, the recommender: no
 * prom-client on the hot path), read at scrape time. Returns the swap: the counts of the objects it
 * retires are carried over, so totals never drop across a model reload.
 */
function swappedCounts<F extends string> (registry: Registry, name: string, help: string, labelName: string, kinds: ReadonlyArray<readonly [string, F]>): (next: Readonly<Record<F, number>> | undefined) => void {
  let live: Readonly<Record<F, number>> | undefined
  const retired = Object.fromEntries(kinds.map(([, field]) => [field, 0])) as Record<F, number>
  new Counter({
    name,
    help,
    labelNames: [labelName],
    registers: [registry],
    collect () {
      this.reset()
      for (const [label, field] of kinds) this.labels(label).inc(retired[field] + (live?.[field] ?? 0))
    },
  })
  return (next) => {
    if (live) for (const [, field] of kinds) retired[field] += live[field]
    live = next
  }
}

export function createMetrics (exposition?: (registry: Registry) => Promise<string>): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const register = (m: FastHistogram): FastHistogram => { registry.registerMetric(m as unknown as Metric); return m }
  const requestDuration = register(new FastHistogram('http_request_duration_seconds', 'HTTP request duration by route template, method and status code.',
    ['route', 'method', 'status_code'], [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]))
  // Hamming scans and HNSW searches sit between 50 us and a few ms on catalogs up to 1M items.
  const recommendation = register(new FastHistogram('hashrec_recommendation_duration_seconds', 'Time in the recommendation domain (query building, search, shaping) by served method.',
    ['method'], [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]))
  const candidates = register(new FastHistogram('hashrec_candidates_examined', 'Items whose score was computed for one recommendation, by served method.',
    ['method'], [0, 10, 100, 500, 1000, 5000, 10_000, 50_000, 100_000, 500_000, 1_000_000]))
  // Gauges say how workers combine in the cluster's merged view: a model's facts are the same on
  // every worker that serves it (max), what workers hold adds up (sum, the default).
  const info = new Gauge({ name: 'hashrec_model_info', help: 'The active model (value 1).', labelNames: ['model_id', 'version'] as const, registers: [registry], aggregator: 'max' })
  const loadSeconds = new Gauge({ name: 'hashrec_model_load_duration_seconds', help: 'How long loading and validating the active model took.', registers: [registry], aggregator: 'max' })
  const items = new Gauge({ name: 'hashrec_model_items', help: 'Items in the active model\'s catalog.', registers: [registry], aggregator: 'max' })
  const users = new Gauge({ name: 'hashrec_model_users', help: 'Users with a dedicated row in the active model.', registers: [registry], aggregator: 'max' })
  const reloads = new Counter({ name: 'hashrec_model_reloads_total', help: 'Reload attempts by outcome.', labelNames: ['result'] as const, registers: [registry] })
  const warmUpSeconds = new Gauge({ name: 'hashrec_warm_up_duration_seconds', help: 'How long the last warm-up (answers computed before a model served) took.', registers: [registry], aggregator: 'max' })
  const warmUpAnswers = new Gauge({ name: 'hashrec_warm_up_answers', help: 'Answers the last warm-up computed, by why it stopped (done, time, cache, off, error).', labelNames: ['stopped_by'] as const, registers: [registry] })

  const swapSearchStats = swappedCounts(registry, 'hashrec_search_queries_total',
    'Searches by path: hamming_table (multi-index tables), hamming_table_fallback (over budget, linear scan), hybrid_bounded_stage (bounded candidate stage), hybrid_bound_reached (cut short by HYBRID_CODES_PER_CANDIDATE), dr (Deep Retrieval beam searches), dr_widened (beam widened for k eligible items), dr_fallback (served by another method).',
    'kind', [['hamming_table', 'tableQueries'], ['hamming_table_fallback', 'tableFallbacks'], ['hybrid_bounded_stage', 'hybridQueries'], ['hybrid_bound_reached', 'hybridBounded'], ['dr', 'drQueries'], ['dr_widened', 'drWidened'], ['dr_fallback', 'drFallbacks']])
  const swapFoldStats = swappedCounts(registry, 'hashrec_user_fold_in_total',
    'Users folded in from a history with items beyond the training data: solved (least squares), or cached (the same items as a kept solve, FOLD_IN_CACHE_BYTES).',
    'result', [['solved', 'foldInSolved'], ['cached', 'foldInCached']])
  const swapResultStats = swappedCounts(registry, 'hashrec_result_cache_total',
    'User and similar-items answers: cached (the same request, user and history as a kept answer, RESULT_CACHE_BYTES), computed for a request, or warmed (computed before the model served, WARM_UP_USERS).',
    'result', [['cached', 'resultCached'], ['computed', 'resultComputed'], ['warmed', 'resultWarmed']])

  // What the active recommender's caches hold, read at scrape time (a swap starts them empty).
  let liveRecommender: Readonly<RecommenderStats> | undefined
  const cacheGauge = (name: string, help: string, fields: Record<'result' | 'fold_in', keyof RecommenderStats>): Gauge => new Gauge({
    name,
    help,
    labelNames: ['cache'] as const,
    registers: [registry],
    collect () {
      this.reset()
      if (liveRecommender) for (const [cache, field] of Object.entries(fields)) this.labels(cache).set(liveRecommender[field])
    },
  })
  cacheGauge('hashrec_cache_entries', 'Entries held by the active model\'s caches: result (RESULT_CACHE_BYTES) and fold_in (FOLD_IN_CACHE_BYTES).',
    { result: 'resultCacheEntries', fold_in: 'foldInCacheEntries' })
  cacheGauge('hashrec_cache_bytes', 'Estimated bytes held by the active model\'s caches, the quantity their budgets bound.',
    { result: 'resultCacheBytes', fold_in: 'foldInCacheBytes' })

  const byMethod = new Map<string, { latency: HistogramChild, work: HistogramChild }>()
  return {
    registry,
    exposition: exposition === undefined ? () => registry.metrics() : () => exposition(registry),
    requestDuration,
    observeRecommendation (method, seconds, examined) {
      let c = byMethod.get(method)
      if (c === undefined) {
        c = { latency: recommendation.child(method), work: candidates.child(method) }
        byMethod.set(method, c)
      }
      c.latency.observe(seconds)
      if (examined !== undefined) c.work.observe(examined)
    },
    setModel (model, stats, recommender) {
      swapSearchStats(stats)
      swapFoldStats(recommender)
      swapResultStats(recommender)
      liveRecommender = recommender
      info.reset()
      info.labels(model.id, model.version).set(1)
      loadSeconds.set(model.stats.loadMs / 1000)
      items.set(model.items.size)
      users.set(model.users.size)
    },
    reload (result) { reloads.labels(result).inc() },
    warmUp (report) {
      warmUpSeconds.set(report.ms / 1000)
      warmUpAnswers.reset()
      warmUpAnswers.labels(report.stoppedBy).set(report.answers)
    },
  }
}

export default fp<{ cluster?: boolean }>(async (app, options) => {
  // A cluster worker: /metrics answers the primary's merge of every worker's registry, and the
  // channel answers the primary's collects from the start (a worker that never took a scrape counts too).
  let channel: WorkerMetricsChannel | undefined
  const metrics = createMetrics(options.cluster === true ? () => channel!.scrape() : undefined)
  if (options.cluster === true) {
    channel = workerMetricsChannel(metrics.registry)
    app.addHook('onClose', async () => { channel?.close() })
  }
  app.decorate('metrics', metrics)
  // Each route observes through a hook of its own that knows its template, and unmatched requests
  // through a global hook that returns at once for the rest: reading request.routeOptions.url
  // builds a 12-field object per request. Children are kept by status * 8 + method index, so no
  // string is built per request.
  type Observer = (request: FastifyRequest, reply: FastifyReply, done: () => void) => void
  const observer = (route: string): Observer => {
    const byStatus = new Map<number, HistogramChild>()
    return (request, reply, done) => {
      let m = HTTP_METHODS.indexOf(request.method as (typeof HTTP_METHODS)[number])
      if (m < 0) m = HTTP_METHODS.length
      const key = reply.statusCode * 8 + m
      let child = byStatus.get(key)
      if (child === undefined) {
        child = metrics.requestDuration.child(route, HTTP_METHODS[m] ?? 'OTHER', String(reply.statusCode))
        byStatus.set(key, child)
      }
      child.observe(reply.elapsedTime / 1000)
      done()
    }
  }
  app.addHook('onRoute', (route) => {
    const own = observer(route.url)
    route.onResponse = route.onResponse === undefined ? [own] : [...(Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]), own]
  })
  const unmatched = observer('unmatched')
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched(request, reply, done)
    else done()
  })
}, { name: 'hashrec-metrics', fastify: '5.x' })
