import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import type { Model } from '../../src/model-loader/model.js'
import { createModelEngines } from '../../src/search/engines.js'
import { createRecommender, type RecommenderOptions } from '../../src/recommend/recommender.js'
import { usersByActivity, warmAnswers, WARM_UP_CACHE_SHARE, type WarmUpOptions } from '../../src/recommend/warm-up.js'
import { seededRandom, tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'

const WARM: WarmUpOptions = { users: 1000, seconds: 60, k: 5, method: 'hybrid' }
const now = (): Promise<void> => Promise.resolve()

async function model (t: TestContext, users = 12): Promise<Model> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 80, users, seen: true, userShared: 8, projection: true, popularity: true, titles: true })
  return loadModel(join(dir, 'm'))
}

function fakeModel (counts: readonly number[] | null): Model {
  const indptr = counts === null ? null : Int32Array.from([0, ...counts.map((_, u) => counts.slice(0, u + 1).reduce((a, b) => a + b, 0))])
  return { users: { size: counts?.length ?? 7 }, userSeen: indptr === null ? null : { indptr, items: new Int32Array(indptr[indptr.length - 1]) } } as unknown as Model
}

test('users are warmed most active first, ties by lower row, in row order without seen items, at most the limit', () => {
  assert.deepEqual([...usersByActivity(fakeModel([2, 5, 0, 5, 1, 9]), 100)], [5, 1, 3, 0, 4, 2])
  assert.deepEqual([...usersByActivity(fakeModel([2, 5, 0, 5, 1, 9]), 3)], [5, 1, 3])
  assert.deepEqual([...usersByActivity(fakeModel(null), 4)], [0, 1, 2, 3])
  assert.deepEqual([...usersByActivity(fakeModel([]), 4)], [])
  // Against a comparison sort, on random counts with many ties.
  const rand = seededRandom(7)
  const counts = Array.from({ length: 500 }, () => Math.floor(rand() * 20))
  const expected = counts.map((c, u) => [c, u]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, u]) => u)
  assert.deepEqual([...usersByActivity(fakeModel(counts), 500)], expected)
  assert.deepEqual([...usersByActivity(fakeModel(counts), 37)], expected.slice(0, 37))
})

test('a warmed user\'s first request is a hit with exactly the answer a fresh search gives; other requests and a new history are computed', async (t) => {
  const m = await model(t)
  const warmed = createRecommender(m, createModelEngines(m))
  const fresh = createRecommender(m, createModelEngines(m), { resultCacheBytes: 0 })
  const report = await warmAnswers(warmed, WARM, now)
  assert.deepEqual([report.answers, report.stoppedBy], [m.users.size, 'done'])
  assert.deepEqual([warmed.stats.resultWarmed, warmed.stats.resultComputed, warmed.stats.resultCached], [m.users.size, 0, 0], 'warm-ups are not counted as requests')
  const opts = { k: 5, method: 'hybrid' as const }
  for (let u = 0; u < m.users.size; u++) {
    const id = m.users.idAt(u)
    // The contexts requests carry: an empty history from the store, or none (degraded).
    for (const context of [{ history: [], excludeSeen: true }, { excludeSeen: true }]) {
      const before = warmed.stats.resultCached
      const answer = warmed.forUser(id, opts, context)
      assert.equal(warmed.stats.resultCached, before + 1, `${id}: from the warmed answer`)
      assert.deepEqual(answer, fresh.forUser(id, opts, context), id)
      assert.equal(JSON.stringify(answer), JSON.stringify(fresh.forUser(id, opts, context)), `${id}: the same bytes`)
    }
  }
  assert.equal(warmed.stats.resultComputed, 0)
  const id = m.users.idAt(3)
  warmed.forUser(id, opts, { history: ['i50'], excludeSeen: true })
  warmed.forUser(id, { k: 6, method: 'hybrid' }, { history: [], excludeSeen: true })
  warmed.forUser(id, { k: 5, method: 'mips' }, { history: [], excludeSeen: true })
  warmed.forUser(id, opts, { history: [], excludeSeen: false })
  assert.equal(warmed.stats.resultComputed, 4, 'a history, another k, method or excludeSeen is not the warmed request')
  const again = await warmAnswers(warmed, WARM, now)
  // User 3's entry now holds the answer for its history (one entry per request key): only it is computed again.
  assert.deepEqual([again.answers, again.stoppedBy], [1, 'done'], 'kept answers are not computed twice')
})

test('warming stops at the user limit, at the time budget and before the cache would evict, and is off without a cache', async (t) => {
  const m = await model(t, 40)
  const limited = createRecommender(m, createModelEngines(m))
  assert.deepEqual((({ answers, stoppedBy }) => ({ answers, stoppedBy }))(await warmAnswers(limited, { ...WARM, users: 5 }, now)), { answers: 5, stoppedBy: 'done' })
  assert.equal(limited.stats.resultCacheEntries, 5)

  const timed = createRecommender(m, createModelEngines(m))
  const report = await warmAnswers(timed, { ...WARM, seconds: 0 }, now)
  assert.deepEqual([report.answers, report.stoppedBy], [0, 'time'])

  // A budget of about twenty answers: warming stops once 90% of it is used, so nothing is evicted.
  const probe = createRecommender(m, createModelEngines(m))
  probe.warm(m.users.idAt(0), { k: 5, method: 'hybrid' })
  const options: RecommenderOptions = { resultCacheBytes: Math.round(probe.stats.resultCacheBytes * 20) }
  const small = createRecommender(m, createModelEngines(m), options)
  const capped = await warmAnswers(small, WARM, now)
  assert.equal(capped.stoppedBy, 'cache')
  assert.ok(capped.answers >= 15 && capped.answers < 40, `${capped.answers} answers`)
  assert.equal(small.stats.resultCacheEntries, capped.answers, 'every warmed answer is still kept')
  assert.ok(small.stats.resultCacheBytes >= WARM_UP_CACHE_SHARE * options.resultCacheBytes!)

  const uncached = createRecommender(m, createModelEngines(m), { resultCacheBytes: 0 })
  assert.deepEqual((await warmAnswers(uncached, WARM, now)).stoppedBy, 'off')
  assert.deepEqual((await warmAnswers(createRecommender(m, createModelEngines(m)), { ...WARM, users: 0 }, now)).stoppedBy, 'off')
})

test('warming yields to the event loop between slices, and an answer that throws stops it with the error', async (t) => {
  const m = await model(t, 40)
  const rec = createRecommender(m, createModelEngines(m))
  let pauses = 0
  // Each user is made slow enough that every slice holds only a few.
  const slow = { ...rec, warm (id: string, opts: Parameters<typeof rec.warm>[1]) { const until = performance.now() + 2; while (performance.now() < until); return rec.warm(id, opts) } }
  const report = await warmAnswers(slow, WARM, async () => { pauses++ })
  assert.equal(report.answers, 40)
  assert.ok(pauses >= 8, `${pauses} pauses over ~80 ms of work`)

  let calls = 0
  const failing = { ...rec, warm () { if (++calls === 3) throw new Error('boom'); return true } }
  const failed = await warmAnswers(failing, WARM, now)
  assert.deepEqual([failed.answers, failed.stoppedBy, (failed.error as Error).message], [2, 'error', 'boom'])
})

test('without a method, warming keeps each user\'s answer under the model\'s default method, the key an omitted-method request looks up', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 40, users: 6, seen: true, serving: { defaultMethod: 'mips' } })
  const m = await loadModel(join(dir, 'm'))
  const rec = createRecommender(m, createModelEngines(m))
  assert.equal(rec.defaultMethod, 'mips')
  const report = await warmAnswers(rec, { users: 100, seconds: 60, k: 5 }, now)
  assert.equal(report.answers, m.users.size)
  const user = rec.lookUpUser('u1', [])
  const omitted = rec.userAnswer(user, { k: 5 }, { history: [], excludeSeen: true })
  assert.deepEqual([omitted.cached, omitted.result.method, omitted.result.requestedMethod], [true, 'mips', 'mips'])
  assert.equal(rec.userAnswer(user, { k: 5, method: 'mips' }, { history: [], excludeSeen: true }).cached, true)
  assert.equal(rec.userAnswer(user, { k: 5, method: 'hybrid' }, { history: [], excludeSeen: true }).cached, false)
})
