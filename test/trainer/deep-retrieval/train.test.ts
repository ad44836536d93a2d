import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateSyntheticCatalog } from '../../../bench/lib/synthetic-catalog.js'
import { syntheticPairs } from '../../../bench/lib/synthetic-pairs.js'
import { createDeepRetrievalIndex, createDeepRetrievalSearch } from '../../../src/search/deep-retrieval/engine.js'
import { createHybridReranker } from '../../../src/search/hybrid.js'
import { exactMipsTopK } from '../../../src/search/mips/brute-force.js'
import { defaultDeepRetrievalOptions } from '../../../src/trainer/deep-retrieval/options.js'
import { trainDeepRetrieval } from '../../../src/trainer/deep-retrieval/train.js'

const cat = generateSyntheticCatalog({ items: 2000, dimension: 16, codeBits: 32, seed: 3, queries: 60, users: 600 })
const pairs = syntheticPairs(cat, { perUser: 10, clustersScanned: 8 })
const input = { dimension: 16, userVectors: cat.userVectors, itemVectors: cat.itemVectors, pairs }
// The synthetic pairs already are each user's top items by inner product (the queries' oracle), so they are the training pairs.
const options = { ...defaultDeepRetrievalOptions(2000, 7), rounds: 2, epochs: 2, pairs: 'interactions' as const }

test('Deep Retrieval training is a pure function of its seed (one thread)', () => {
  const a = trainDeepRetrieval(input, options)
  const b = trainDeepRetrieval(input, options)
  assert.deepEqual(a.itemKeys, b.itemKeys)
  a.network.layers.forEach((l, d) => assert.deepEqual(l.weight, b.network.layers[d].weight))
  assert.deepEqual(a.network.nodeEmbeddings, b.network.nodeEmbeddings)
  assert.ok(a.stats.losses[a.stats.losses.length - 1] < a.stats.losses[0], `loss ${a.stats.losses}`)
  assert.equal(a.stats.mSteps.length, 2)
})

test('a trained structure retrieves most of the exact inner-product top 10 of unseen queries while scoring a small part of the catalog', () => {
  for (const hidden of [0, 16]) {
    const model = trainDeepRetrieval(input, { ...options, hidden })
    const items = { itemVectors: cat.itemVectors, itemBias: null, dimension: 16, itemCount: 2000 }
    const search = createDeepRetrievalSearch(items, createDeepRetrievalIndex(model.network, model.itemKeys, 2000, 8), createHybridReranker(items, false), 1024)
    let hits = 0
    let scored = 0
    for (let q = 0; q < cat.queryCount; q++) {
      const query = cat.queryVectors.subarray(q * 16, (q + 1) * 16)
      const truth = new Set(exactMipsTopK(items, query, 10, undefined).rows)
      const top = search(query, { k: 10, beam: 8 })!
      scored += top.candidatesExamined
      for (const r of top.rows) if (truth.has(r)) hits++
    }
    const recall = hits / (10 * cat.queryCount)
    assert.ok(recall >= 0.9, `hidden ${hidden}: recall@10 ${recall}`)
    assert.ok(scored / cat.queryCount < 0.25 * 2000, `hidden ${hidden}: ${scored / cat.queryCount} scored per query`)
  }
})

test('teacher pairs are each user\'s best unseen items by exact inner product, and the union keeps both sets once', async () => {
  const { teacherPairs, unionPairs } = await import('../../../src/trainer/deep-retrieval/teacher-pairs.js')
  const items = { itemVectors: cat.itemVectors, itemBias: null, dimension: 16, itemCount: 2000 }
  const teacher = teacherPairs(cat.userVectors, cat.itemVectors, 16, pairs, 5)
  for (const u of [0, 17, 599]) {
    const seen = new Set(pairs.indices.subarray(pairs.indptr[u], pairs.indptr[u + 1]))
    const expected = [...exactMipsTopK(items, cat.userVectors.subarray(u * 16, (u + 1) * 16), 5, seen).rows].sort((a, b) => a - b)
    assert.deepEqual([...teacher.indices.subarray(teacher.indptr[u], teacher.indptr[u + 1])], expected)
    const union = unionPairs(pairs, teacher)
    assert.deepEqual([...union.indices.subarray(union.indptr[u], union.indptr[u + 1])], [...new Set([...seen, ...expected])].sort((a, b) => a - b))
  }
})
