import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Counter, Gauge, Registry } from 'prom-client'
import { createMetricsHub, createPrimaryRegistry, workerMetricsChannel, type MetricsHub } from '../../src/cluster-metrics.js'
import { FastHistogram } from '../../src/plugins/metrics.js'

/** Workers in one process: each a registry and a metrics channel, messages JSON-copied on a later turn as over IPC. */
function fakeGroup () {
  const copy = <T>(m: T): T => JSON.parse(JSON.stringify(m)) as T
  const workers = new Map<number, { registry: Registry, requests: Counter, deliver: (m: unknown) => void, silent: boolean }>()
  const primary = createPrimaryRegistry(() => workers.size)
  const hub: MetricsHub = createMetricsHub({
    send: (id, message) => { const w = workers.get(id); if (w && !w.silent) setImmediate(() => w.deliver(copy(message))) },
    workers: () => [...workers.keys()],
    collectTimeoutMs: 100,
    registry: primary.registry,
  })
  const start = (id: number) => {
    const registry = new Registry()
    const requests = new Counter({ name: 'requests_total', help: 'h', labelNames: ['route'], registers: [registry] })
    new Gauge({ name: 'model_items', help: 'h', registers: [registry], aggregator: 'max', collect () { this.set(40) } })
    const hist = new FastHistogram('latency_seconds', 'h', ['route'], [0.1, 1])
    registry.registerMetric(hist as never)
    hist.child('/a').observe(0.05)
    let listener: (m: unknown) => void = () => {}
    const w = { registry, requests, deliver: (m: unknown) => listener(m), silent: false }
    workers.set(id, w)
    const channel = workerMetricsChannel(registry, {
      send: (m) => setImmediate(() => hub.handle(id, copy(m))),
      on: (l) => { listener = l; return () => {} },
      timeoutMs: 2000,
    })
    return { ...w, channel }
  }
  const kill = (id: number) => { workers.delete(id); hub.retire(id) }
  return { start, kill, workers, restarted: primary.restarted }
}

function value (text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  assert.ok(line !== undefined, `${series} in\n${text}`)
  return Number(line.slice(series.length + 1))
}

test('a scrape on any worker answers the sum of every worker\'s counters and histograms, gauges by their aggregator', async () => {
  const g = fakeGroup()
  const a = g.start(1)
  const b = g.start(2)
  a.requests.labels('/a').inc(3)
  b.requests.labels('/a').inc(4)
  const text = await b.channel.scrape()
  assert.equal(value(text, 'requests_total{route="/a"}'), 7)
  assert.equal(value(text, 'model_items'), 40, 'max, not 80')
  assert.equal(value(text, 'latency_seconds_count{route="/a"}'), 2)
  assert.equal(value(text, 'latency_seconds_bucket{le="0.1",route="/a"}'), 2)
  assert.equal(value(text, 'hashrec_workers'), 2)
  assert.equal(await a.channel.scrape(), text, 'the same view from either worker')
})

test('counters never go backwards: a killed worker\'s last counts stay in the total, a silent worker counts with its last registry', async () => {
  const g = fakeGroup()
  const a = g.start(1)
  const b = g.start(2)
  a.requests.labels('/a').inc(10)
  b.requests.labels('/a').inc(5)
  assert.equal(value(await a.channel.scrape(), 'requests_total{route="/a"}'), 15)
  g.kill(2)
  g.restarted()
  const c = g.start(3)
  c.requests.labels('/a').inc(1)
  const after = await a.channel.scrape()
  assert.equal(value(after, 'requests_total{route="/a"}'), 16)
  assert.equal(value(after, 'latency_seconds_count{route="/a"}'), 3, 'histograms retire too')
  assert.equal(value(after, 'hashrec_worker_restarts_total'), 1)
  g.workers.get(3)!.silent = true
  c.requests.labels('/a').inc(100)
  const stale = await a.channel.scrape()
  assert.equal(value(stale, 'requests_total{route="/a"}'), 16, 'the silent worker\'s last registry, not zero')
  g.kill(1)
  g.workers.get(3)!.silent = false
  assert.equal(value(await c.channel.scrape(), 'requests_total{route="/a"}'), 116)
})

test('a worker whose primary does not answer serves its own series, marked as such', async () => {
  const registry = new Registry()
  new Counter({ name: 'solo_total', help: 'h', registers: [registry] }).inc(2)
  const channel = workerMetricsChannel(registry, { send: () => {}, on: () => () => {}, timeoutMs: 20 })
  const text = await channel.scrape()
  assert.match(text, /^# the cluster primary did not answer/)
  assert.equal(value(text, 'solo_total'), 2)
})

test('the hub ignores other channels and malformed metrics messages', () => {
  const logged: string[] = []
  const hub = createMetricsHub({ send: () => {}, workers: () => [], log: (m) => logged.push(m) })
  assert.equal(hub.handle(1, { type: 'prom-client:getMetricsRes' }), false)
  assert.equal(hub.handle(1, { ch: 'hashrec:metrics', op: 'collected', id: 0, metrics: [{ name: 'x' }] }), true)
  assert.deepEqual(logged, ['ignored a malformed metrics message from a worker'])
})
