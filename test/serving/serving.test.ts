/**
 * The serving facade without fastify: the request path's decisions (state reads, the fallback,
 * degraded answers, event ingestion) made in one plain module and observable from its results.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { HttpProblem } from '../../src/errors.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { createRecommender, type Recommender } from '../../src/recommend/recommender.js'
import type { RecommendationResult } from '../../src/recommend/types.js'
import { createModelEngines } from '../../src/search/engines.js'
import { createServing, type Served, type ServingOptions } from '../../src/serving/serving.js'
import { StateUnavailableError } from '../../src/state/errors.js'
import { createMemoryStore } from '../../src/state/memory-store.js'
import type { StateStore } from '../../src/state/types.js'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'

async function recommender (t: TestContext): Promise<Recommender> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  // No shared user rows: an unknown id without catalog items in its history gets the fallback.
  await writeTestBundle(join(dir, 'm'), { items: 40, users: 6, seen: true, popularity: true })
  const model = await loadModel(join(dir, 'm'))
  return createRecommender(model, createModelEngines(model))
}

interface Recorded {
  observed: Array<[string, number | undefined]>
  degraded: string[]
  events: Array<[string, number]>
}

function serving (rec: Recommender | null, store: StateStore): { serving: ReturnType<typeof createServing<RecommendationResult>>, recorded: Recorded } {
  const recorded: Recorded = { observed: [], degraded: [], events: [] }
  const options: ServingOptions<RecommendationResult> = {
    models: { active: rec },
    store,
    historyLength: 200,
    observe: (method, _seconds, examined) => { recorded.observed.push([method, examined]) },
    degraded: (read) => { recorded.degraded.push(read) },
    events: (result, count) => { recorded.events.push([result, count]) },
  }
  return { serving: createServing(options), recorded }
}

const query = { k: 5, method: 'hybrid' as const, excludeSeen: true }

test('with the state in process, a user is answered without a promise; a repeat is the kept answer, timed without its candidates', async (t) => {
  const rec = await recommender(t)
  const { serving: s, recorded } = serving(rec, createMemoryStore())
  const first = s.forUser('u2', query)
  assert.ok(!(first instanceof Promise))
  const again = s.forUser('u2', query) as Served<RecommendationResult>
  assert.deepEqual([first.cached, again.cached, first.degraded, again.degraded], [false, true, false, false])
  assert.equal(again.result, first.result)
  assert.deepEqual(recorded.observed, [['hybrid', first.result.candidatesExamined], ['hybrid', undefined]])
})

test('trending items are read only for a user whose answer is the fallback, and lead it', async (t) => {
  const rec = await recommender(t)
  const store = createMemoryStore()
  await store.recordEvents([{ userId: 'someone', itemId: 'i7', type: 'purchase', timestamp: Date.now() }])
  let trendingReads = 0
  const reads = store.now
  const counting: StateStore = Object.assign(Object.create(store) as StateStore, { now: { recentItems: reads.recentItems, trending: (limit: number) => { trendingReads++; return reads.trending(limit) } } })
  const { serving: s } = serving(rec, counting)
  const known = s.forUser('u1', query) as Served<RecommendationResult>
  assert.equal(known.result.fallback, undefined)
  assert.equal(trendingReads, 0, 'a user the model has a vector for')
  const stranger = s.forUser('stranger', query) as Served<RecommendationResult>
  assert.deepEqual([stranger.result.fallback, stranger.result.items[0].id, trendingReads], ['trending', 'i7', 1])
  const folded = s.forUser('someone', query) as Served<RecommendationResult>
  assert.deepEqual([folded.result.source, trendingReads], ['history', 1], 'a history with a catalog item is folded in, not a fallback')
})

test('a state store that fails is a degraded answer from the model alone, never a failed request', async (t) => {
  const rec = await recommender(t)
  const down = Object.assign(Object.create(createMemoryStore()) as StateStore, {
    now: undefined,
    recentItems: async () => { throw new StateUnavailableError('redis timed out') },
    recordEvents: async () => { throw new StateUnavailableError('redis is down') },
  })
  const { serving: s, recorded } = serving(rec, down)
  const served = await s.forUser('u2', query)
  assert.deepEqual([served.degraded, served.result.source], [true, 'dedicated'])
  assert.deepEqual(recorded.degraded, ['history'])
  const stranger = await s.forUser('stranger', query)
  assert.deepEqual([stranger.degraded, stranger.result.fallback], [true, 'popular'])
  await assert.rejects(s.ingest([{ userId: 'u1', itemId: 'i3', type: 'click' }, { userId: 'u1', itemId: 'nope', type: 'click' }]), (err: unknown) => err instanceof StateUnavailableError && err.message === 'events were not stored: redis is down')
  assert.deepEqual(recorded.events, [['refused', 1]])
})

test('events are validated one by one against the active catalog and the accepted ones stored', async (t) => {
  const rec = await recommender(t)
  const store = createMemoryStore()
  const { serving: s, recorded } = serving(rec, store)
  const ingested = await s.ingest([{ userId: 'u1', itemId: 'i3', type: 'click' }, { userId: 'u1', itemId: 'nope', type: 'click' }, { bad: true }])
  assert.equal(ingested.accepted, 1)
  assert.deepEqual(ingested.rejected.map((r) => [r.index, r.reason]), [[1, 'unknown-item'], [2, 'malformed']])
  assert.deepEqual(recorded.events, [['accepted', 1], ['rejected', 2]])
  assert.deepEqual(await store.recentItems('u1', 10), ['i3'])
})

test('without a model every call is a 503 not-ready problem; a batch over its total k is refused before any state is read', async (t) => {
  const { serving: idle } = serving(null, createMemoryStore())
  assert.throws(() => idle.forUser('u1', query), (err: unknown) => err instanceof HttpProblem && err.key === 'notReady')
  await assert.rejects(idle.ingest([]), (err: unknown) => err instanceof HttpProblem && err.key === 'notReady')
  const rec = await recommender(t)
  const { serving: s } = serving(rec, createMemoryStore())
  const big = Array.from({ length: 11 }, () => ({ userId: 'u1', k: 1000, method: 'hybrid' as const }))
  await assert.rejects(s.batch(big), (err: unknown) => err instanceof HttpProblem && err.key === 'invalidParameters')
  const batch = await s.batch([{ userId: 'u1', k: 3, method: 'hybrid' }, { itemIds: ['i1', 'i2'], k: 3, method: 'hamming' }])
  assert.equal(batch.modelVersion, rec.model.version)
  assert.deepEqual([batch.answer(0).result.source, batch.answer(1).result.source], ['dedicated', 'fold-in'])
})
