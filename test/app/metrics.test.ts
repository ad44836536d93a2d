import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { Histogram, Registry, type Metric } from 'prom-client'
import { FastHistogram } from '../../src/plugins/metrics.js'

test('FastHistogram prints exactly what prom-client\'s Histogram prints for the same observations', async () => {
  const buckets = [0.001, 0.01, 0.1, 1]
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ label: fc.constantFrom('a', 'b', 'c"quoted'), value: fc.double({ min: 0, max: 5, noNaN: true }) }), { maxLength: 60 }),
    async (observations) => {
      const ours = new Registry()
      const theirs = new Registry()
      const fast = new FastHistogram('h_seconds', 'help text', ['kind'], buckets)
      ours.registerMetric(fast as unknown as Metric)
      const reference = new Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['kind'], buckets, registers: [theirs] })
      for (const o of observations) {
        fast.child(o.label).observe(o.value)
        reference.labels(o.label).observe(o.value)
      }
      const sortLines = (s: string): string[] => s.split('\n').filter((l) => l !== '').sort()
      assert.deepEqual(sortLines(await ours.metrics()), sortLines(await theirs.metrics()))
    },
  ), { numRuns: 50 })
})

test('search counters read the active engines at scrape time and keep counting across a model swap', async () => {
  const { createMetrics } = await import('../../src/plugins/metrics.js')
  const metrics = createMetrics()
  const model = (id: string) => ({ id, version: '1', items: { size: 3 }, users: { size: 2 }, stats: { loadMs: 5 } }) as any
  const valueOf = async (kind: string): Promise<number> => {
    const metric = await metrics.registry.getSingleMetric('hashrec_search_queries_total')!.get()
    return metric.values.find((v) => v.labels.kind === kind)?.value ?? NaN
  }
  const first = { tableQueries: 0, tableFallbacks: 0, hybridQueries: 0, hybridBounded: 0, drQueries: 0, drWidened: 0, drFallbacks: 0 }
  metrics.setModel(model('a'), first)
  assert.equal(await valueOf('hybrid_bounded_stage'), 0)
  first.hybridQueries = 7
  first.hybridBounded = 3
  assert.equal(await valueOf('hybrid_bounded_stage'), 7)
  assert.equal(await valueOf('hybrid_bound_reached'), 3)
  const second = { tableQueries: 1, tableFallbacks: 0, hybridQueries: 2, hybridBounded: 0, drQueries: 4, drWidened: 1, drFallbacks: 0 }
  metrics.setModel(model('b'), second)
  assert.equal(await valueOf('hybrid_bounded_stage'), 9, 'the retired engines still count')
  assert.equal(await valueOf('hybrid_bound_reached'), 3)
  assert.equal(await valueOf('hamming_table'), 1)
  assert.equal(await valueOf('dr'), 4)
  assert.equal(await valueOf('dr_widened'), 1)
  assert.match(await metrics.registry.metrics(), /hashrec_search_queries_total\{kind="hybrid_bounded_stage"\} 9/)
})

test('fold-in and result cache counters read the active recommender at scrape time and keep counting across a model swap', async () => {
  const { createMetrics } = await import('../../src/plugins/metrics.js')
  const metrics = createMetrics()
  const model = (id: string) => ({ id, version: '1', items: { size: 3 }, users: { size: 2 }, stats: { loadMs: 5 } }) as any
  const search = { tableQueries: 0, tableFallbacks: 0, hybridQueries: 0, hybridBounded: 0, drQueries: 0, drWidened: 0, drFallbacks: 0 }
  const held = { resultCacheEntries: 0, resultCacheBytes: 0, resultCacheBudgetBytes: 0, foldInCacheEntries: 0, foldInCacheBytes: 0 }
  const first = { foldInSolved: 0, foldInCached: 0, resultCached: 0, resultComputed: 0, resultWarmed: 0, ...held }
  metrics.setModel(model('a'), search, first)
  first.foldInSolved = 4
  first.foldInCached = 10
  first.resultCached = 7
  first.resultComputed = 3
  first.resultWarmed = 6
  assert.match(await metrics.registry.metrics(), /hashrec_user_fold_in_total\{result="solved"\} 4\n/)
  metrics.setModel(model('b'), search, { foldInSolved: 1, foldInCached: 2, resultCached: 20, resultComputed: 1, resultWarmed: 2, ...held, resultCacheEntries: 3, resultCacheBytes: 4096 })
  const text = await metrics.registry.metrics()
  assert.match(text, /hashrec_user_fold_in_total\{result="solved"\} 5\n/)
  assert.match(text, /hashrec_user_fold_in_total\{result="cached"\} 12\n/)
  assert.match(text, /hashrec_result_cache_total\{result="cached"\} 27\n/)
  assert.match(text, /hashrec_result_cache_total\{result="computed"\} 4\n/)
  assert.match(text, /hashrec_result_cache_total\{result="warmed"\} 8\n/)
  assert.match(text, /hashrec_cache_entries\{cache="result"\} 3\n/, 'what the live caches hold, not a sum over models')
  assert.match(text, /hashrec_cache_bytes\{cache="result"\} 4096\n/)
  assert.match(text, /hashrec_cache_entries\{cache="fold_in"\} 0\n/)
})

test('a repeated request over HTTP is answered from the result cache: the same body, counted as cached, and no candidates observed for it', async (t) => {
  const { createTestApp } = await import('./helpers.js')
  const { app, model } = await createTestApp(t, { bundle: { items: 50, users: 6 } })
  const url = `/v1/users/${encodeURIComponent(model.users.idAt(2))}/recommendations?k=5&method=hybrid`
  const first = await app.inject({ url })
  const second = await app.inject({ url })
  assert.equal(first.statusCode, 200)
  assert.equal(second.body, first.body)
  const text = (await app.inject({ url: '/metrics' })).body
  assert.match(text, /hashrec_result_cache_total\{result="cached"\} 1\n/)
  assert.match(text, /hashrec_result_cache_total\{result="computed"\} 1\n/)
  assert.match(text, /hashrec_recommendation_duration_seconds_count\{method="hybrid"\} 2\n/)
  assert.match(text, /hashrec_candidates_examined_count\{method="hybrid"\} 1\n/)
  assert.match(text, /hashrec_cache_entries\{cache="result"\} 1\n/)
  assert.match(text, /hashrec_cache_bytes\{cache="result"\} [1-9]\d*\n/)
})
