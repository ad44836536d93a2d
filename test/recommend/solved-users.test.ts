import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { MAX_FOLD_IN_TRAINING_ITEMS } from '../../src/defaults.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import type { Model } from '../../src/model-loader/model.js'
import { writeBundle, type BundleInput } from '../../src/model-loader/write-bundle.js'
import { createFoldInScratch, foldInVector } from '../../src/realtime/fold-in.js'
import { createRecommender } from '../../src/recommend/recommender.js'
import { createModelEngines } from '../../src/search/engines.js'
import { tempDir } from '../helpers/bundle-fixture.js'
import { solvedBundleInput } from '../helpers/learned-fixture.js'

async function load (t: TestContext, input: BundleInput): Promise<Model> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeBundle(join(dir, 'b'), input)
  return loadModel(join(dir, 'b'))
}

/** The fold-in of rows[from, to) of a user's training items (deduplicated, in order). */
function foldIn (model: Model, user: number, from = 0, to = Infinity): Float32Array {
  const seen = model.userSeen!
  const rows = [...new Set(seen.items.subarray(seen.indptr[user], seen.indptr[user + 1]))].slice(from, to)
  const out = new Float32Array(model.dimension)
  assert.ok(foldInVector(model, Int32Array.from(rows), rows.length, out, createFoldInScratch(model.dimension)))
  return out
}

test('a solved-user bundle answers each listed user exactly as a bundle storing the fold-in of their training items', async (t) => {
  const input = solvedBundleInput({ items: 60, users: 8 })
  const solved = await load(t, input)
  const vectors = new Float32Array(8 * solved.dimension)
  for (let u = 0; u < 8; u++) vectors.set(foldIn(solved, u), u * solved.dimension)
  const { vectors: _solved, ...stored } = input.tables.user
  const reference = await load(t, { ...input, tables: { ...input.tables, user: { ...stored, dedicatedRows: 8 } }, tensors: { ...input.tensors, userEmbeddings: vectors } })
  const a = createRecommender(solved, createModelEngines(solved), { resultCacheBytes: 0 })
  const b = createRecommender(reference, createModelEngines(reference), { resultCacheBytes: 0 })
  for (let u = 0; u < 8; u++) {
    const id = solved.users.idAt(u)
    assert.equal(a.hasSignal(id), true)
    for (const method of ['mips', 'hamming', 'hybrid'] as const) {
      const got = a.forUser(id, { k: 10, method })
      const want = b.forUser(id, { k: 10, method })
      assert.equal(got.source, 'solved')
      assert.equal(want.source, 'dedicated')
      assert.deepEqual(got.items.map((i) => i.id), want.items.map((i) => i.id), `${id} ${method}`)
      assert.deepEqual(got.items.map((i) => i.score), want.items.map((i) => i.score), `${id} ${method}`)
    }
  }
  // Every request after a user's first is answered from the fold-in cache: one solve per user.
  assert.equal(a.stats.foldInSolved, 8)
  assert.equal(a.stats.foldInCached, 8 * 2)
})

test('a solved user with fresh history is folded in with it (source history); unknown users without history get the fallback', async (t) => {
  const model = await load(t, solvedBundleInput({ items: 60, users: 8, popularity: true }))
  const rec = createRecommender(model, createModelEngines(model), { resultCacheBytes: 0 })
  const seen = model.userSeen!
  const trained = new Set(seen.items.subarray(seen.indptr[2], seen.indptr[3]))
  const fresh = model.items.idAt([...Array(60).keys()].find((r) => !trained.has(r))!)
  const r = rec.forUser('u2', { k: 5, method: 'mips' }, { history: [fresh] })
  assert.equal(r.source, 'history')
  assert.ok(!r.items.some((i) => i.id === fresh), 'the history item is excluded')
  assert.equal(rec.hasSignal('stranger'), false)
  const unknown = rec.forUser('stranger', { k: 5, method: 'mips' })
  assert.equal(unknown.source, 'none')
  assert.equal(unknown.fallback, 'popular')
})

test(`a heavy user is folded in over their last ${MAX_FOLD_IN_TRAINING_ITEMS} training items`, async (t) => {
  const heavy = MAX_FOLD_IN_TRAINING_ITEMS + 100
  const input = solvedBundleInput({ items: heavy + 200, users: 2, hnsw: null })
  const items = new Int32Array(heavy + 1)
  for (let i = 0; i < heavy; i++) items[i] = i
  items[heavy] = 5
  const model = await load(t, { ...input, tensors: { ...input.tensors, userSeen: { indptr: Int32Array.from([0, heavy, heavy + 1]), items } } })
  const rec = createRecommender(model, createModelEngines(model))
  const capped = foldIn(model, 0, heavy - MAX_FOLD_IN_TRAINING_ITEMS)
  const whole = foldIn(model, 0)
  const r = rec.forUser('u0', { k: 20, method: 'mips' })
  assert.equal(r.source, 'solved')
  const d = model.dimension
  for (const item of r.items) {
    const row = model.items.rowOf(item.id)!
    assert.ok(row >= heavy, 'every training item is still excluded')
    let dot = 0
    let dotWhole = 0
    for (let j = 0; j < d; j++) {
      dot += model.itemVectors[row * d + j] * capped[j]
      dotWhole += model.itemVectors[row * d + j] * whole[j]
    }
    assert.ok(Math.abs(item.score - dot) < 1e-4 * (1 + Math.abs(dot)), `${item.id}: ${item.score} vs ${dot}`)
    assert.ok(Math.abs(dot - dotWhole) > 0, 'the cap changes the vector')
  }
})
