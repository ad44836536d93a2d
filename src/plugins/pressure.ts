/**
 * Load shedding: past a limit the service answers 503 `overloaded` with Retry-After at once, so
 * latency stays bounded and a load balancer or client can back off, instead of queueing requests
 * until they time out. @fastify/under-pressure samples the event-loop delay, heap and RSS; this
 * plugin shapes its answer as problem+json, exempts the probes, sheds batches earlier than single
 * requests, enforces the per-request time budget and counts what it shed.
 *
 * Why event-loop delay: every request here is CPU work on one thread, so a worker that receives more
 * than it can serve shows it first as a growing delay between loop turns (~5-15 ms when saturated
 * at 64 connections, hundreds of ms once connections pile up), long before memory moves.
 */
import underPressure, { TYPE_EVENT_LOOP_DELAY, TYPE_HEAP_USED_BYTES, TYPE_RSS_BYTES, type FastifyUnderPressureOptions } from '@fastify/under-pressure'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import { HttpProblem } from '../errors.js'
import { problemOf, PROBLEM_CONTENT_TYPE } from './errors.js'

export interface PressureOptions {
  /** Mean event-loop delay (ms) over one sample above which requests are shed; 0 = off. */
  readonly maxEventLoopDelayMs: number
  readonly maxHeapUsedBytes: number
  readonly maxRssBytes: number
  readonly retryAfterS: number
  /** A request that has not reached its handler this long after it arrived is shed. */
  readonly requestTimeoutMs: number
  /**
   * How often the delay and memory are sampled. 250 ms: a spike is noticed and its end recovered
   * from within a quarter second, while one sample still averages over dozens of loop turns.
   */
  readonly sampleIntervalMs?: number
  /** Routes never shed: probes and scrapes must answer most when the service is in trouble. */
  readonly exempt?: readonly string[]
  /** Routes shed at half the delay limit: one of them costs as much as up to 100 single requests. */
  readonly heavy?: readonly string[]
}

export interface Pressure {
  readonly requestTimeoutMs: number
  /** True once `reply` has used up the per-request time budget. */
  overBudget (reply: FastifyReply): boolean
  /** Answers 503 overloaded for a handler that ran out of budget mid-way (the batch route between chunks). */
  sendOverBudget (request: FastifyRequest, reply: FastifyReply): FastifyReply
}

declare module 'fastify' {
  interface FastifyInstance {
    pressure: Pressure
  }
}

const DEFAULT_EXEMPT = ['/healthz', '/readyz', '/metrics']
const DEFAULT_HEAVY = ['/v1/recommendations/batch']
const REASONS: Record<string, string> = {
  [TYPE_EVENT_LOOP_DELAY]: 'event_loop_delay',
  [TYPE_HEAP_USED_BYTES]: 'heap',
  [TYPE_RSS_BYTES]: 'rss',
}

export default fp<PressureOptions>(async (app, opts) => {
  const exempt = new Set(opts.exempt ?? DEFAULT_EXEMPT)
  const heavy = new Set(opts.heavy ?? DEFAULT_HEAVY)
  const retryAfter = String(opts.retryAfterS)
  const shed = new Counter({
    name: 'hashrec_shed_requests_total',
    help: 'Requests answered 503 overloaded, by reason (event_loop_delay, heap, rss, batch, time_budget).',
    labelNames: ['reason'] as const,
    registers: [app.metrics.registry],
  })

  function overloaded (request: FastifyRequest, reply: FastifyReply, reason: string, detail: string): string {
    shed.labels(reason).inc()
    reply.code(503).header('retry-after', retryAfter).type(PROBLEM_CONTENT_TYPE)
    return JSON.stringify(problemOf(new HttpProblem('overloaded', detail), request))
  }

  // Not before two samples after ready: the first windows hold the app's own startup (loading and
  // checking the model blocks the loop for seconds) or no loop tick at all (a NaN mean, which
  // under-pressure reads as overloaded), and would shed the first requests of a healthy process.
  const sampleIntervalMs = opts.sampleIntervalMs ?? 250
  const maxDelay = opts.maxEventLoopDelayMs
  let armed = false
  app.addHook('onReady', (done) => { setTimeout(() => { armed = true }, 2 * sampleIntervalMs).unref(); done() })

  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    maxHeapUsedBytes: opts.maxHeapUsedBytes,
    maxRssBytes: opts.maxRssBytes,
    sampleInterval: sampleIntervalMs,
    retryAfter: opts.retryAfterS,
    // under-pressure sends a returned value as the reply and calls next() on undefined (not shed);
    // its typings say void, its code (index.js handlePressure) does this.
    pressureHandler: ((request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined): string | undefined => {
      if (!armed || exempt.has(request.routeOptions.url ?? '')) return undefined
      // Shed a share that grows with the excess (all of it at twice the limit), not everything:
      // closed-loop clients answered with cheap 503s come straight back, and shedding all of a
      // 250 ms window then serving all of the next measured near-zero 2xx throughput on the 1M
      // catalog at 64 connections (bench/http/run.ts), where the delay sits just above the limit.
      if (type === TYPE_EVENT_LOOP_DELAY && Math.random() * maxDelay >= Number(value) - maxDelay) return undefined
      const reason = REASONS[type] ?? String(type)
      return overloaded(request, reply, reason, `${reason.replace(/_/g, ' ')} ${Math.round(Number(value))} over the limit`)
    }) as unknown as FastifyUnderPressureOptions['pressureHandler'],
  })

  const delayGauge = new Gauge({
    name: 'hashrec_event_loop_delay_seconds',
    help: 'Mean event-loop delay over the last pressure sample (the load-shedding signal); the busiest worker\'s in a cluster.',
    registers: [app.metrics.registry],
    aggregator: 'max',
    collect () { this.set(app.memoryUsage().eventLoopDelay / 1000) },
  })
  void delayGauge

  const halfDelay = opts.maxEventLoopDelayMs / 2
  if (opts.maxEventLoopDelayMs > 0 && heavy.size > 0) {
    // A hook on the heavy routes alone (added as they are registered): a global one would read
    // request.routeOptions, a 12-field object built per access, on every request.
    const shedBatch = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      if (!armed) { done(); return }
      const delay = app.memoryUsage().eventLoopDelay
      if (delay > halfDelay) { reply.send(overloaded(request, reply, 'batch', `event loop delay ${Math.round(delay)} ms: batches are shed first`)); return }
      done()
    }
    app.addHook('onRoute', (route) => {
      if (!heavy.has(route.url)) return
      route.onRequest = route.onRequest === undefined ? [shedBatch] : [...(Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]), shedBatch]
    })
  }

  const budget = opts.requestTimeoutMs
  const pressure: Pressure = {
    requestTimeoutMs: budget,
    overBudget: (reply) => reply.elapsedTime > budget,
    sendOverBudget: (request, reply) => reply.send(overloaded(request, reply, 'time_budget', `not finished within the ${budget} ms request budget`)),
  }
  app.decorate('pressure', pressure)
  // The last point before the work starts: time spent receiving the body or queued behind other
  // requests' handlers counts, and a request already past its budget is not worth serving late.
  app.addHook('preHandler', (request, reply, done) => {
    if (reply.elapsedTime <= budget || exempt.has(request.routeOptions.url ?? '')) { done(); return }
    reply.send(overloaded(request, reply, 'time_budget', `not started within the ${budget} ms request budget`))
  })
}, { name: 'hashrec-pressure', fastify: '5.x', dependencies: ['hashrec-metrics', 'hashrec-errors'] })

