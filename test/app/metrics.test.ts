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
