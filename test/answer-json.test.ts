import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { serializerCompiler } from 'fastify-type-provider-zod'
import { ANSWER_JSON, answerJson, asReply, batchReply, checkedSerializerCompiler, type AnswerJson } from '../src/answer-json.js'
import { loadModel } from '../src/model-loader/load-bundle.js'
import { createRecommender, type Recommender } from '../src/recommend/recommender.js'
import { RecommendationResponseSchema } from '../src/routes/schemas.js'
import { createModelEngines } from '../src/search/engines.js'
import { tempDir, writeTestBundle } from './helpers/bundle-fixture.js'

/** Runs a query on `rec` and says whether its answer came from the result cache. */
function viaCache<T> (rec: Recommender<AnswerJson>, run: () => T): [T, boolean] {
  const before = rec.stats.resultCached
  const result = run()
  return [result, rec.stats.resultCached > before]
}

test('a kept answer is its JSON, made once: a hit sends the string a fresh search serializes to, and a degraded copy and a batch of kept answers serialize as JSON.stringify would', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 80, users: 12, seen: true, userShared: 8, projection: true, popularity: true, titles: true })
  const model = await loadModel(join(dir, 'm'))
  const cached = createRecommender(model, createModelEngines(model), { form: ANSWER_JSON })
  const fresh = createRecommender(model, createModelEngines(model), { resultCacheBytes: 0 })
  const opts = { k: 6, method: 'hybrid' as const }
  const users = ['u1', 'u2', 'somebody-new']
  const computed = users.map((u) => cached.forUser(u, opts, { history: ['i3'] }))
  const hits = users.map((u) => viaCache(cached, () => cached.forUser(u, opts, { history: ['i3'] })))
  const expected = users.map((u) => fresh.forUser(u, opts, { history: ['i3'] }))
  for (const [i, [kept, hit]] of hits.entries()) {
    assert.equal(hit, true)
    assert.equal(kept, computed[i], 'the answer the computing request got: its JSON was made once')
    assert.deepEqual(JSON.parse(kept.json).items, expected[i].items, 'items parse back exactly (scores round-trip through JSON)')
    assert.equal(answerJson(kept), JSON.stringify(expected[i]))
    assert.deepEqual([kept.method, kept.candidatesExamined], [expected[i].method, expected[i].candidatesExamined])
    assert.equal(answerJson(kept.degraded()), JSON.stringify({ ...expected[i], degraded: true }), 'degraded as a copy of the result would be')
  }
  const error = { error: { type: 'about:blank', title: 'x', status: 404 } }
  const batch = batchReply('v1', [asReply(hits[0][0]), error, asReply(ANSWER_JSON.of(expected[0])), asReply(hits[2][0])])
  assert.equal(answerJson(batch), JSON.stringify({ modelVersion: 'v1', results: [expected[0], error, expected[0], expected[2]] }))
  assert.equal(answerJson(batchReply('v1', [])), '{"modelVersion":"v1","results":[]}')
})

test('the checked serializer validates a made body as the object its JSON holds, and refuses one its schema does not', () => {
  const check = checkedSerializerCompiler(serializerCompiler)({ schema: RecommendationResponseSchema, method: 'GET', url: '/x', httpStatus: '200' })
  const result = { modelVersion: 'v1', method: 'hamming' as const, requestedMethod: 'hamming' as const, source: 'code' as const, candidatesExamined: 3, items: [{ id: 'a', score: 1.5, rank: 1 }] }
  assert.deepEqual(JSON.parse(check(ANSWER_JSON.of(result))), result)
  assert.deepEqual(JSON.parse(check(ANSWER_JSON.of(result).degraded())), { ...result, degraded: true })
  assert.throws(() => check(ANSWER_JSON.of({ ...result, candidatesExamined: -1 })))
})
