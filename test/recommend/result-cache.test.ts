import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { createModelEngines } from '../../src/search/engines.js'
import { createRecommender, type Recommender } from '../../src/recommend/recommender.js'
import { answerJson } from '../../src/answer-json.js'
import { resultKey } from '../../src/recommend/result-cache.js'
import { CheckedLru, IDS, ROWS } from '../../src/recommend/checked-lru.js'
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
  // The kept answer is checked against the history's ids (the user id fixes the training items):
  // an event on an item the user saw in training (u2 saw i6, i7, i8), or on an item outside the
  // catalog, is a new history, so the answer is computed again, and it is the same answer.
  cached.forUser('u2', base, { history })
  const [again, hit] = viaCache(cached, () => cached.forUser('u2', base, { history: [...history] }))
  assert.equal(hit, true, 'another array with the same ids')
  for (const changed of [['i6', ...history], ['not-an-item', ...history]]) {
    const [got, computed] = viaCache(cached, () => cached.forUser('u2', base, { history: changed }))
    assert.equal(computed, false, changed[0])
    assert.deepEqual(got, again, changed[0])
    assert.deepEqual(got, fresh.forUser('u2', base, { history: changed }), changed[0])
  }
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
  assert.throws(() => { second.degraded = true }, TypeError, 'what a hit gets is frozen too')
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

test('CheckedLru keeps the most recently used entries within its byte budget, each valid only for its inputs', () => {
  const rows = Int32Array.of(1, 2, 3)
  const probe = new CheckedLru<string, Int32Array>(1 << 20, ROWS)
  probe.put('a', rows, 'A', 100)
  const entry = probe.usedBytes
  const lru = new CheckedLru<string, Int32Array>(2 * entry + 1, ROWS)
  lru.put('a', rows, 'A', 100)
  lru.put('b', rows, 'B', 100)
  assert.equal(lru.get('a', rows), 'A')
  lru.put('c', rows, 'C', 100)
  assert.deepEqual([lru.get('b', rows), lru.get('a', rows), lru.get('c', rows)], [undefined, 'A', 'C'])
  assert.equal(lru.get('a', rows.subarray(0, 2)), undefined, 'fewer rows is a miss')
  assert.equal(lru.get('a', Int32Array.of(1, 2, 4)), undefined, 'other rows are a miss')
  rows[0] = 9
  assert.equal(lru.get('c', Int32Array.of(1, 2, 3)), 'C', 'the rows were copied: the caller may reuse its buffer')
  assert.deepEqual([lru.hits, lru.misses], [4, 3])
  assert.equal(lru.usedBytes, 2 * entry)
  assert.equal(new CheckedLru(0, ROWS).enabled, false)

  const ids = new CheckedLru<string, readonly string[]>(1 << 20, IDS)
  const mutable = ['x', 'y']
  ids.put('u', mutable, 'U', 10)
  mutable.push('z')
  assert.equal(ids.get('u', ['x', 'y']), 'U', 'a mutable array is kept as a copy')
  assert.equal(ids.get('u', mutable), undefined)
  const frozen = Object.freeze(['p', 'q'])
  ids.put('v', frozen, 'V', 10)
  assert.equal(ids.get('v', frozen), 'V')
  assert.equal(ids.get('v', ['p', 'q']), 'V')
  assert.equal(ids.get('v', ['q', 'p']), undefined, 'order matters')
})

test('a history that changes in place is seen: the cache keeps a copy of a mutable history, and the same frozen array is a hit', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 60, users: 6, seen: true, projection: true })
  const model = await loadModel(join(dir, 'm'))
  const rec = createRecommender(model, createModelEngines(model))
  const reference = createRecommender(model, createModelEngines(model), { resultCacheBytes: 0 })
  const opts = { k: 5, method: 'hybrid' as const }
  const frozen = Object.freeze(['i30', 'nope', 'i31'])
  const first = rec.forUser('u1', opts, { history: frozen })
  assert.deepEqual(first, reference.forUser('u1', opts, { history: ['i30', 'i31'] }))
  // Other users' histories in between use the same scratch rows.
  rec.forUser('u2', opts, { history: ['i40', 'i41', 'i42'] })
  const [again, hit] = viaCache(rec, () => rec.forUser('u1', opts, { history: frozen }))
  assert.equal(hit, true)
  assert.deepEqual(again, first)
  assert.equal(answerJson(again), JSON.stringify(first))
  const mutable = ['i30', 'i31']
  rec.forUser('u3', opts, { history: mutable })
  mutable.push('i32')
  const [changed, cachedAnswer] = viaCache(rec, () => rec.forUser('u3', opts, { history: mutable }))
  assert.equal(cachedAnswer, false, 'a history changed in place is a new history')
  assert.deepEqual(changed, reference.forUser('u3', opts, { history: ['i30', 'i31', 'i32'] }))
})
