import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { createModelEngines } from '../../src/recommend/model-engines.js'
import { createRecommender, type Recommender } from '../../src/recommend/recommender.js'
import { answerJson, resultKey } from '../../src/recommend/result-cache.js'
import { RowsKeyedLru } from '../../src/recommend/rows-lru.js'
import type { RecommendationResult } from '../../src/recommend/types.js'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'

async function pair (t: import('node:test').TestContext): Promise<{ cached: Recommender, fresh: Recommender }> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 80, users: 12, seen: true, userShared: 8, projection: true, popularity: true, titles: true })
  const model = await loadModel(join(dir, 'm'))
  return {
    cached: createRecommender(model, createModelEngines(model)),
    fresh: createRecommender(model, createModelEngines(model), { resultCacheBytes: 0 }),
  }
}

/** Runs a query on `rec` and says whether its answer came from the result cache. */
function viaCache<T> (rec: Recommender, run: () => T): [T, boolean] {
  const before = rec.stats.resultCached
  const result = run()
  return [result, rec.stats.resultCached > before]
}

test('a repeated request is answered from the cache with exactly what a fresh search returns, for every kind of user and similar items', async (t) => {
  const { cached, fresh } = await pair(t)
  const requests: Array<[string, () => [RecommendationResult, RecommendationResult]]> = []
  for (const method of ['hybrid', 'hamming', 'mips'] as const) {
    const opts = { k: 7, method }
    requests.push(
      [`${method} dedicated`, () => [cached.forUser('u3', opts, { excludeSeen: true }), fresh.forUser('u3', opts, { excludeSeen: true })]],
      [`${method} hashed`, () => [cached.forUser('somebody-new', opts), fresh.forUser('somebody-new', opts)]],
      [`${method} history`, () => [cached.forUser('u4', opts, { history: ['i50', 'i2'] }), fresh.forUser('u4', opts, { history: ['i50', 'i2'] })]],
      [`${method} excludes`, () => [cached.forUser('u4', { ...opts, exclude: ['i1', 'i9'] }), fresh.forUser('u4', { ...opts, exclude: ['i1', 'i9'] })]],
      [`${method} similar`, () => [cached.similarItems('i5', opts), fresh.similarItems('i5', opts)]],
    )
  }
  for (const [name, run] of requests) {
    const [[first, expected], hit] = viaCache(cached, run)
    assert.equal(hit, false, `${name}: computed the first time`)
    assert.deepEqual(first, expected, name)
  }
  // Everything again, interleaved with other queries that use the same scratch buffers.
  for (const [name, run] of requests) {
    cached.forSession({ itemIds: ['i7', 'i8'] }, { k: 5, method: 'hybrid' })
    const [[again, expected], hit] = viaCache(cached, run)
    assert.equal(hit, true, `${name}: from the cache the second time`)
    assert.deepEqual(again, expected, name)
    assert.equal(JSON.stringify(again), JSON.stringify(expected), `${name}: the same bytes on the wire`)
  }
  assert.deepEqual([cached.stats.resultCached, cached.stats.resultComputed], [requests.length, requests.length])
  assert.deepEqual([fresh.stats.resultCached, fresh.stats.resultComputed], [0, 0], 'a zero budget keeps and counts nothing')
})

test('every option and the user\'s rows are part of the key: a new event, another k, method, ef, exclude or excludeSeen is computed afresh', async (t) => {
  const { cached, fresh } = await pair(t)
  const base = { k: 6, method: 'hybrid' as const }
  const history = ['i40', 'i41']
  cached.forUser('u2', base, { history })
  const variants: Array<[string, () => [RecommendationResult, RecommendationResult]]> = [
    ['a new history item', () => [cached.forUser('u2', base, { history: ['i42', ...history] }), fresh.forUser('u2', base, { history: ['i42', ...history] })]],
    ['the same items in another order', () => [cached.forUser('u2', base, { history: ['i41', 'i40'] }), fresh.forUser('u2', base, { history: ['i41', 'i40'] })]],
    ['another k', () => [cached.forUser('u2', { ...base, k: 3 }, { history }), fresh.forUser('u2', { ...base, k: 3 }, { history })]],
    ['another method', () => [cached.forUser('u2', { ...base, method: 'mips' }, { history }), fresh.forUser('u2', { ...base, method: 'mips' }, { history })]],
    ['an ef', () => [cached.forUser('u2', { ...base, ef: 20 }, { history }), fresh.forUser('u2', { ...base, ef: 20 }, { history })]],
    ['an exclude', () => [cached.forUser('u2', { ...base, exclude: ['i0'] }, { history }), fresh.forUser('u2', { ...base, exclude: ['i0'] }, { history })]],
    ['excludeSeen false', () => [cached.forUser('u2', base, { history, excludeSeen: false }), fresh.forUser('u2', base, { history, excludeSeen: false })]],
    ['another user', () => [cached.forUser('u20', base, { history }), fresh.forUser('u20', base, { history })]],
  ]
  for (const [name, run] of variants) {
    const [[got, expected], hit] = viaCache(cached, run)
    assert.equal(hit, false, name)
    assert.deepEqual(got, expected, name)
  }
  // The kept answer is checked against the history's rows (the user id fixes the training items):
  // an event on an item the user saw in training (u2 saw i6, i7, i8) is a new history, so the
  // answer is computed again, and it is the same answer.
  cached.forUser('u2', base, { history })
  const [again, hit] = viaCache(cached, () => cached.forUser('u2', base, { history }))
  assert.equal(hit, true)
  const [withTraining, computed] = viaCache(cached, () => cached.forUser('u2', base, { history: ['i6', ...history] }))
  assert.equal(computed, false)
  assert.deepEqual(withTraining, again)
  assert.deepEqual(withTraining, fresh.forUser('u2', base, { history: ['i6', ...history] }))
  // History ids outside the catalog are no rows at all (the entry was replaced just above: ask again first).
  cached.forUser('u2', base, { history })
  assert.equal(viaCache(cached, () => cached.forUser('u2', base, { history: ['not-an-item', ...history] }))[1], true)
  // Ids cannot run into each other in the key.
  assert.notEqual(resultKey('u', 'a|1:b', { k: 1, method: 'mips' }, true), resultKey('u', 'a', { k: 1, method: 'mips', exclude: ['b'] }, true))
})

test('trending fallbacks are not kept; kept answers are frozen, so nothing can change what later requests get, and serialized once', async (t) => {
  const { cached } = await pair(t)
  // A model without shared user rows has no signal for unknown ids; this one has, so ask a
  // session with no catalog items, then a dedicated user whose answer a caller marks.
  const a = cached.forSession({ itemIds: ['nope'] }, { k: 3, method: 'hybrid' }, { trending: [{ itemId: 'i9', score: 5 }] })
  const b = cached.forSession({ itemIds: ['nope'] }, { k: 3, method: 'hybrid' }, { trending: [{ itemId: 'i11', score: 5 }] })
  assert.equal(a.items[0].id, 'i9')
  assert.equal(b.items[0].id, 'i11')
  const first = cached.forUser('u1', { k: 4, method: 'hybrid' })
  assert.throws(() => { first.degraded = true }, TypeError, 'a kept answer is frozen, items too')
  assert.throws(() => { first.items[0].score = 0 }, TypeError)
  const marked = { ...first, degraded: true }
  const [second, hit] = viaCache(cached, () => cached.forUser('u1', { k: 4, method: 'hybrid' }))
  assert.equal(hit, true)
  assert.equal(second.degraded, undefined)
  const body = answerJson(first)
  assert.equal(body, JSON.stringify(first))
  assert.equal(answerJson(second), body, 'made once, served to every hit')
  assert.equal(answerJson(marked), JSON.stringify(marked), 'a copy is serialized as itself')
})

test('users without signal get the trending fallback fresh every time, and share one kept popularity fallback without trending', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 30, users: 4, popularity: true })
  const model = await loadModel(join(dir, 'm'))
  const rec = createRecommender(model, createModelEngines(model))
  const a = rec.forUser('unknown', { k: 2, method: 'hybrid' }, { trending: [{ itemId: 'i3', score: 2 }] })
  const b = rec.forUser('unknown', { k: 2, method: 'hybrid' }, { trending: [{ itemId: 'i4', score: 2 }] })
  assert.equal(a.fallback, 'trending')
  assert.deepEqual([a.items[0].id, b.items[0].id], ['i3', 'i4'])
  assert.equal(rec.stats.resultCached, 0)
  // Without trending items the popularity fallback is one answer for every user without signal.
  const reference = createRecommender(model, createModelEngines(model), { resultCacheBytes: 0 })
  const first = rec.forUser('anon-1', { k: 3, method: 'hybrid' })
  assert.equal(first.fallback, 'popular')
  const [second, hit] = viaCache(rec, () => rec.forUser('anon-2', { k: 3, method: 'hybrid' }, { history: ['not-in-catalog'], trending: [] }))
  assert.equal(hit, true, 'another user without signal gets the kept fallback')
  assert.deepEqual(second, reference.forUser('anon-2', { k: 3, method: 'hybrid' }))
  assert.equal(viaCache(rec, () => rec.forUser('anon-3', { k: 4, method: 'hybrid' }))[1], false, 'another k is another answer')
  const [excluded, hit2] = viaCache(rec, () => rec.forUser('anon-4', { k: 3, method: 'hybrid', exclude: [first.items[0].id] }))
  assert.equal(hit2, false)
  assert.ok(!excluded.items.some((i) => i.id === first.items[0].id))
  // A user with a catalog item in their history is folded in, not served the kept fallback.
  const [folded, hit3] = viaCache(rec, () => rec.forUser('anon-5', { k: 3, method: 'hybrid' }, { history: ['i7'] }))
  assert.equal(hit3, false)
  assert.equal(folded.source, 'history')
  // And trending items are never answered from the kept fallback.
  assert.equal(rec.forUser('anon-6', { k: 3, method: 'hybrid' }, { trending: [{ itemId: 'i9', score: 1 }] }).items[0].id, 'i9')
})

test('RowsKeyedLru keeps the most recently used entries within its byte budget', () => {
  const rows = Int32Array.of(1, 2, 3)
  const probe = new RowsKeyedLru<string>(1 << 20)
  probe.put('a', rows, 3, 'A', 100)
  const entry = probe.usedBytes
  const lru = new RowsKeyedLru<string>(2 * entry + 1)
  lru.put('a', rows, 3, 'A', 100)
  lru.put('b', rows, 3, 'B', 100)
  assert.equal(lru.get('a', rows, 3), 'A')
  lru.put('c', rows, 3, 'C', 100)
  assert.deepEqual([lru.get('b', rows, 3), lru.get('a', rows, 3), lru.get('c', rows, 3)], [undefined, 'A', 'C'])
  assert.equal(lru.get('a', rows, 2), undefined, 'fewer rows is a miss')
  assert.equal(lru.get('a', Int32Array.of(1, 2, 4), 3), undefined, 'other rows are a miss')
  assert.deepEqual([lru.hits, lru.misses], [3, 3])
  assert.equal(lru.usedBytes, 2 * entry)
  assert.equal(new RowsKeyedLru(0).enabled, false)
})

test('a frozen history has its catalog rows kept with it, a mutable one is read on every request', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 60, users: 6, seen: true, projection: true })
  const model = await loadModel(join(dir, 'm'))
  // No result cache: every request computes from the history it is given.
  const rec = createRecommender(model, createModelEngines(model), { resultCacheBytes: 0 })
  const reference = createRecommender(model, createModelEngines(model), { resultCacheBytes: 0 })
  const opts = { k: 5, method: 'hybrid' as const }
  const frozen = Object.freeze(['i30', 'nope', 'i31'])
  const first = rec.forUser('u1', opts, { history: frozen })
  assert.deepEqual(rec.forUser('u1', opts, { history: frozen }), first)
  assert.deepEqual(first, reference.forUser('u1', opts, { history: ['i30', 'i31'] }))
  // Other users' histories in between use the same scratch rows.
  rec.forUser('u2', opts, { history: ['i40', 'i41', 'i42'] })
  assert.deepEqual(rec.forUser('u1', opts, { history: frozen }), first)
  const mutable = ['i30', 'i31']
  assert.deepEqual(rec.forUser('u1', opts, { history: mutable }), first)
  mutable.push('i32')
  assert.deepEqual(rec.forUser('u1', opts, { history: mutable }), reference.forUser('u1', opts, { history: ['i30', 'i31', 'i32'] }), 'a changed mutable history is read again')
})
