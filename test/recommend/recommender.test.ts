import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createModelEngines } from '../../src/search/engines.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { IncompatibleQueryError, UnknownItemError } from '../../src/recommend/errors.js'
import { createRecommender, type RecommenderOptions } from '../../src/recommend/recommender.js'
import { tempDir, writeTestBundle, type TestBundleOptions } from '../helpers/bundle-fixture.js'

async function recommender (t: import('node:test').TestContext, o: TestBundleOptions = {}, options: RecommenderOptions = {}) {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), o)
  const model = await loadModel(join(dir, 'm'))
  return createRecommender(model, createModelEngines(model), options)
}

test('a session whose item ids are all outside the catalog falls back to popular items', async (t) => {
  const rec = await recommender(t, { popularity: true })
  const r = rec.forSession({ itemIds: ['x', 'y'] }, { k: 3, method: 'hybrid' })
  assert.equal(r.fallback, 'popular')
  assert.equal(r.source, 'fold-in')
  assert.deepEqual(r.items.map((i) => i.id), Array.from(rec.model.popularItems.slice(0, 3), (row) => rec.model.items.idAt(row)))
})

test('k larger than the catalog returns every item not excluded, ranked 1..n', async (t) => {
  const rec = await recommender(t, { items: 12 })
  for (const method of ['hamming', 'mips', 'hybrid'] as const) {
    const r = rec.forUser('u0', { k: 1000, method, exclude: ['i0', 'i1'] })
    assert.equal(r.items.length, 10, method)
    assert.deepEqual(r.items.map((i) => i.rank), Array.from({ length: 10 }, (_, i) => i + 1))
    for (let i = 1; i < r.items.length; i++) assert.ok(r.items[i - 1].score >= r.items[i].score, method)
  }
})

test('repeated queries on one recommender do not leak state between them (shared scratch buffers)', async (t) => {
  // No result cache: the second query must run, not be answered from the first.
  const rec = await recommender(t, { projection: true, userShared: 8 }, { resultCacheBytes: 0 })
  const first = rec.forUser('u3', { k: 5, method: 'hybrid' })
  rec.forSession({ vector: Array.from({ length: 8 }, (_, i) => i - 4) }, { k: 5, method: 'hybrid' })
  rec.forSession({ itemIds: ['i1', 'i2', 'i3'] }, { k: 5, method: 'hamming' })
  rec.similarItems('i9', { k: 5, method: 'mips' })
  assert.deepEqual(rec.forUser('u3', { k: 5, method: 'hybrid' }), first)
})

test('domain errors: an unknown item, a vector of the wrong dimension, a code of the wrong width', async (t) => {
  const rec = await recommender(t)
  assert.throws(() => rec.similarItems('nope', { k: 3, method: 'mips' }), UnknownItemError)
  assert.throws(() => rec.forSession({ vector: [1] }, { k: 3, method: 'mips' }), IncompatibleQueryError)
  assert.throws(() => rec.forSession({ code: 'ff' }, { k: 3, method: 'hamming' }), IncompatibleQueryError)
})

test('excludeSeen leaves out training items and history, plus explicit excludes, and still returns k items', async (t) => {
  // Fixture: user u2 saw item rows 6, 7, 8 in training.
  const rec = await recommender(t, { items: 40, users: 5, seen: true })
  for (const method of ['hybrid', 'hamming', 'mips'] as const) {
    const excluded = new Set(['i6', 'i7', 'i8', 'i3', 'i12', 'i20'])
    const res = rec.forUser('u2', { k: 34, method, exclude: ['i3', 'i12', 'i7'] }, { excludeSeen: true, history: ['i20', 'i6', 'not-in-catalog'] })
    assert.equal(res.items.length, 34, `${method}: every item not excluded`)
    for (const item of res.items) assert.ok(!excluded.has(item.id), `${method} returned excluded ${item.id}`)
    // Without excludeSeen only the explicit excludes are left out.
    const open = rec.forUser('u2', { k: 37, method, exclude: ['i3', 'i12', 'i7'] }, { excludeSeen: false })
    assert.equal(open.items.length, 37)
    assert.ok(open.items.some((i) => i.id === 'i6') && open.items.some((i) => i.id === 'i8'))
    assert.ok(!open.items.some((i) => i.id === 'i7' || i.id === 'i3' || i.id === 'i12'))
  }
})

test('hasSignal and forUser agree whichever user was asked about last (the kept id lookup)', async (t) => {
  // No hashed rows: a user without a dedicated row has no signal and gets the popularity fallback.
  const rec = await recommender(t, { users: 6, popularity: true }, { resultCacheBytes: 0 })
  const fresh = await recommender(t, { users: 6, popularity: true }, { resultCacheBytes: 0 })
  const ids = ['u1', 'stranger', 'u4', 'u4', 'nobody', 'u1']
  for (let i = 0; i < ids.length; i++) {
    const asked = ids[(i + 1) % ids.length]
    assert.equal(rec.hasSignal(asked), fresh.hasSignal(asked), asked)
    // Asked about one user, answering another: the answer is the other's.
    const r = rec.forUser(ids[i], { k: 3, method: 'hybrid' })
    assert.deepEqual(r, fresh.forUser(ids[i], { k: 3, method: 'hybrid' }), ids[i])
    assert.equal(r.fallback !== undefined, !ids[i].startsWith('u'), ids[i])
  }
})
