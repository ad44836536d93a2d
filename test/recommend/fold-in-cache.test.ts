import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { FoldInCache } from '../../src/recommend/fold-in-cache.js'
import { createModelEngines } from '../../src/search/engines.js'
import { createRecommender } from '../../src/recommend/recommender.js'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'

const rows = (...xs: number[]): Int32Array => Int32Array.from(xs)

test('FoldInCache answers only for the same rows in the same order, copies in and out, and keeps the most recently used within its budget', () => {
  const cache = new FoldInCache(1 << 20)
  const v = Float32Array.of(1, 2, 3)
  const c = Uint32Array.of(7)
  const scratch = rows(5, 6, 7, 99)
  cache.put('u', scratch, 3, v, c)
  scratch[0] = 42
  v[0] = -1
  const outV = new Float32Array(3)
  const outC = new Uint32Array(1)
  assert.equal(cache.get('u', rows(5, 6, 7), 3, outV, outC), true)
  assert.deepEqual([...outV], [1, 2, 3])
  assert.deepEqual([...outC], [7])
  assert.equal(cache.get('u', rows(5, 7, 6), 3, outV, outC), false, 'order matters: the solve sums in row order')
  assert.equal(cache.get('u', rows(5, 6, 7, 8), 4, outV, outC), false)
  assert.equal(cache.get('u', rows(5, 6), 2, outV, outC), false)
  assert.equal(cache.get('nobody', rows(5, 6, 7), 3, outV, outC), false)
  assert.deepEqual([cache.hits, cache.misses], [1, 4])

  // Budget for two entries of this size: the least recently used goes.
  const one = new FoldInCache(0)
  one.put('a', rows(1), 1, v, c)
  assert.equal(one.size, 0, 'a zero budget keeps nothing')
  const probe = new FoldInCache(1 << 20)
  probe.put('a', rows(1), 1, v, c)
  const entry = probe.usedBytes
  const two = new FoldInCache(2 * entry + 1)
  two.put('a', rows(1), 1, v, c)
  two.put('b', rows(2), 1, v, c)
  assert.equal(two.get('a', rows(1), 1, outV, outC), true) // a is now the most recent
  two.put('c', rows(3), 1, v, c)
  assert.equal(two.size, 2)
  assert.equal(two.get('b', rows(2), 1, outV, outC), false, 'b was least recently used')
  assert.equal(two.get('a', rows(1), 1, outV, outC), true)
  assert.equal(two.get('c', rows(3), 1, outV, outC), true)
  // Replacing an entry does not count it twice.
  two.put('c', rows(4), 1, v, c)
  assert.equal(two.usedBytes, 2 * entry)
  assert.equal(two.get('c', rows(3), 1, outV, outC), false)
  assert.equal(two.get('c', rows(4), 1, outV, outC), true)
  // An entry larger than the whole budget is not kept (and evicts nothing).
  two.put('huge', new Int32Array(1000), 1000, v, c)
  assert.equal(two.size, 2)
})

test('a user folded in again with the same history gets the cached solve: the very results of a fresh solve, counted as cached', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 60, users: 12, seen: true })
  const model = await loadModel(join(dir, 'm'))
  // Without the result cache, which would answer the repeated requests before any fold-in.
  const cached = createRecommender(model, createModelEngines(model), { resultCacheBytes: 0 })
  const uncached = createRecommender(model, createModelEngines(model), { foldInCacheBytes: 0, resultCacheBytes: 0 })
  const history = ['i40', 'i3', 'i17']
  for (const method of ['hybrid', 'mips', 'hamming'] as const) {
    const opts = { k: 8, method }
    const fresh = uncached.forUser('u2', opts, { history, excludeSeen: true })
    assert.equal(fresh.source, 'history')
    const first = cached.forUser('u2', opts, { history, excludeSeen: true })
    // Other users in between use the same scratch buffers.
    cached.forUser('u5', opts, { history: ['i1'], excludeSeen: true })
    cached.forUser('u7', opts)
    const again = cached.forUser('u2', opts, { history, excludeSeen: true })
    assert.deepEqual(first, fresh, method)
    assert.deepEqual(again, fresh, method)
  }
  assert.deepEqual([cached.stats.foldInSolved, cached.stats.foldInCached, cached.stats.resultCached, cached.stats.resultComputed], [2, 7, 0, 0])
  assert.equal(cached.stats.foldInCacheEntries, 2, 'u2 and u5 were folded in')
  assert.deepEqual([uncached.stats.foldInSolved, uncached.stats.foldInCached, uncached.stats.foldInCacheEntries], [3, 0, 0])
  // A new history item is a new solve, the same as an uncached one.
  const longer = ['i9', ...history]
  assert.deepEqual(cached.forUser('u2', { k: 8, method: 'hybrid' }, { history: longer }), uncached.forUser('u2', { k: 8, method: 'hybrid' }, { history: longer }))
  assert.equal(cached.stats.foldInSolved, 3)
})
