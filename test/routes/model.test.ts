import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp } from '../app/helpers.js'
import { ModelInfoSchema } from '../../src/routes/schemas.js'

test('GET /v1/model describes the active model: counts, bits, dimension, hashing, index, training metadata, load time', async (t) => {
  const { app, model } = await createTestApp(t, { bundle: { items: 33, users: 7, dimension: 16, codeBits: 128, userShared: 5, aggregation: 'concat', bias: true, projection: true } })
  const res = await app.inject({ method: 'GET', url: '/v1/model' })
  assert.equal(res.statusCode, 200)
  const info = ModelInfoSchema.parse(res.json())
  assert.equal(info.id, 'test-model')
  assert.equal(info.version, 'v1')
  assert.deepEqual(info.counts, { items: 33, users: 7 })
  assert.equal(info.codeBits, 128)
  assert.equal(info.dimension, 16)
  // 7 x 16 dedicated + 5 x 8 shared float32 values, against (7 + 33) x 16 float32 values for a row per user and item.
  assert.deepEqual(info.tables.user, { dedicatedRows: 7, sharedRows: 5, aggregation: 'concat', hash: { function: 'murmur3_x86_32', seeds: [11, 22] }, vectors: 'stored', learnedMapping: null, bytes: 608, shareOfFloat32: 608 / 2560 })
  assert.equal(info.hnsw?.M, 8)
  assert.equal(info.hnsw?.efConstruction, 50)
  assert.equal(info.itemBias, true)
  assert.equal(info.userCodeProjection, true)
  assert.deepEqual(info.training, { fixture: true })
  assert.equal(info.loadedAt, model.stats.loadedAt)
  assert.ok(info.loadMs > 0)
  assert.equal((info.search as { itemCount: number }).itemCount, 33)
})

test('HYBRID_CANDIDATES, HYBRID_CODES_PER_CANDIDATE and HYBRID_INT8_PREFILTER reach the engines the service builds', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 12, users: 3 }, config: { HYBRID_CANDIDATES: '40', HYBRID_CODES_PER_CANDIDATE: '3' } })
  const info = ModelInfoSchema.parse((await app.inject({ method: 'GET', url: '/v1/model' })).json())
  const hybrid = (info.search as { hybrid: Record<string, unknown> }).hybrid
  assert.deepEqual({ ...hybrid, rerankMemoryBytes: undefined }, { defaultCandidates: 40, maxCandidates: 10_000, codesPerCandidate: 3, rerank: 'int8-prefilter', rerankReady: true, rerankMemoryBytes: undefined })
  assert.ok((hybrid.rerankMemoryBytes as number) > 0)
  const { app: off } = await createTestApp(t, { bundle: { items: 12, users: 3 }, config: { HYBRID_INT8_PREFILTER: 'false' } })
  const offInfo = ModelInfoSchema.parse((await off.inject({ method: 'GET', url: '/v1/model' })).json())
  assert.deepEqual((offInfo.search as { hybrid: Record<string, unknown> }).hybrid, { defaultCandidates: 200, maxCandidates: 10_000, codesPerCandidate: 8, rerank: 'float', rerankReady: false, rerankMemoryBytes: 0 })
})
