import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chooseServingMethod } from '../../src/trainer/serving-method.js'
import type { DeepRetrievalReport } from '../../src/trainer/deep-retrieval/report-section.js'

const dr = (served: number, exhaustive: number): DeepRetrievalReport => ({
  servedBeam: 16, exhaustive: { recall: exhaustive, ndcg: 0 }, beams: [{ beam: 8, recall: 0, ndcg: 0, candidates: 1, catalogShare: 0, fallbacks: 0, msPerQuery: 0 }, { beam: 16, recall: served, ndcg: 0, candidates: 1, catalogShare: 0, fallbacks: 0, msPerQuery: 0 }],
} as unknown as DeepRetrievalReport)

test('the default method is the hybrid when it keeps 98% of the exact ranking, else Deep Retrieval when it does, else mips', () => {
  assert.equal(chooseServingMethod(0.15, 0.148, dr(0.1, 0.15)).method, 'hybrid')
  assert.equal(chooseServingMethod(0.15, 0.12, dr(0.148, 0.15)).method, 'dr')
  assert.equal(chooseServingMethod(0.15, 0.12, dr(0.14, 0.15)).method, 'mips')
  assert.equal(chooseServingMethod(0.15, 0.12, undefined).method, 'mips')
  const c = chooseServingMethod(0.15, 0.12, dr(0.147, 0.15))
  assert.ok(Math.abs(c.hybridRatio - 0.8) < 1e-12 && Math.abs(c.drRatio! - 0.98) < 1e-12)
})
