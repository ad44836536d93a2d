import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { dequantizeRowsI8, quantizeRowsI8 } from '../../src/hashing/int8-rows.js'
import { computeItemGram } from '../../src/model-loader/item-vectors.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { writeBundle, type BundleInput } from '../../src/model-loader/write-bundle.js'
import { parseSafetensors } from '../../src/model-loader/safetensors.js'
import { tempDir, testBundleInput, type TestBundleOptions } from '../helpers/bundle-fixture.js'
import { editManifest, editTensors, rejects, type EditableTensors } from '../helpers/bundle-edit.js'
import { mappedBundleInput } from '../helpers/learned-fixture.js'

async function written (t: TestContext, input: BundleInput): Promise<string> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeBundle(join(dir, 'b'), input)
  return join(dir, 'b')
}

/** 60 items (20 dedicated, 8 shared rows), 12 users (4 shared rows), stored as I8. */
const HYBRID: TestBundleOptions = { items: 60, users: 12, itemDedicated: 20, itemShared: 8, userShared: 4, embeddingDtype: 'I8' }

function assertDequantized (actual: Float32Array, original: Float32Array, width: number, what: string): void {
  const rows = original.length / width
  const { q, scale } = quantizeRowsI8(original, rows, width)
  assert.deepEqual([...actual], [...dequantizeRowsI8(q, scale, width)], `${what}: the loader's values are the helper's`)
  for (let i = 0; i < original.length; i++) {
    const r = Math.floor(i / width)
    assert.ok(Math.abs(actual[i] - original[i]) <= scale[r] / 2 + Math.abs(original[i]) * 2 ** -22, `${what} element ${i} within half a step`)
  }
}

test('an I8 bundle round-trips: every table is the helper\'s dequantized rows, within half a scale step of the float32 input', async (t) => {
  const input = testBundleInput({ ...HYBRID, hnsw: { space: 'ip', M: 8, efConstruction: 40, efSearch: 20, randomSeed: 1, prebuild: true } })
  const dir = await written(t, input)
  const st = parseSafetensors(await readFile(join(dir, 'tensors.safetensors')))
  for (const [name, rows] of [['item_embeddings', 20], ['item_embeddings_shared', 8], ['user_embeddings', 12], ['user_embeddings_shared', 4]] as const) {
    assert.equal(st.tensors.get(name)?.dtype, 'I8', name)
    assert.deepEqual(st.tensors.get(`${name}_scale`)?.shape, [rows], `${name}_scale`)
  }
  const model = await loadModel(dir)
  assert.equal(model.manifest.dtypes.embeddings, 'I8')
  const ti = input.tensors
  assertDequantized(model.itemTable.dedicated, ti.itemEmbeddings, 8, 'item_embeddings')
  assertDequantized(model.itemTable.shared, ti.itemSharedEmbeddings!, 8, 'item_embeddings_shared')
  assertDequantized(model.userTable.dedicated, ti.userEmbeddings, 8, 'user_embeddings')
  assertDequantized(model.userTable.shared, ti.userSharedEmbeddings!, 8, 'user_embeddings_shared')
  // The shipped Gram matrix and the prebuilt index are of the dequantized vectors the loader serves.
  const gram = computeItemGram(model.itemVectors, 60, 8)
  for (let j = 0; j < 64; j++) assert.ok(Math.abs(model.itemGram[j] - gram[j]) < 1e-4 * (1 + Math.abs(gram[j])), `gram ${j}`)
  assert.equal(model.hnsw?.source, 'file')
  const row = 42
  const hit = model.hnsw!.index.searchKnn([...model.itemVectors.subarray(row * 8, row * 8 + 8)], 60)
  assert.equal(hit.neighbors.length, 60)
  assert.equal(model.stats.zeroCopyTensors > 0, true, 'codes and the other F32 tensors are still views')
})

test('an I8 bundle with concat tables, a fully dedicated item table and a learned mapping loads', async (t) => {
  const concat = testBundleInput({ ...HYBRID, aggregation: 'concat' })
  const a = await loadModel(await written(t, concat))
  assertDequantized(a.itemTable.shared, concat.tensors.itemSharedEmbeddings!, 4, 'concat shared rows')
  const full = testBundleInput({ items: 30, users: 5, embeddingDtype: 'I8' })
  const b = await loadModel(await written(t, full))
  assertDequantized(b.itemVectors, full.tensors.itemEmbeddings, 8, 'fully dedicated item matrix')
  const mapped = mappedBundleInput({ embeddingDtype: 'I8', userMapping: true })
  const c = await loadModel(await written(t, mapped))
  assertDequantized(c.itemTable.dedicated, mapped.tensors.itemEmbeddings, 8, 'mapped item rows')
  assert.equal(c.itemTable.resolveInto('i3', new Float32Array(8)), 'mapped')
})

test('an I8 table with an all-zero row has scale 0 for it and serves zeros', async (t) => {
  const input = testBundleInput({ items: 10, users: 3, embeddingDtype: 'I8' })
  input.tensors.itemEmbeddings.fill(0, 16, 24)
  const model = await loadModel(await written(t, input))
  assert.deepEqual([...model.itemVectors.subarray(16, 24)], new Array(8).fill(0))
  assert.equal(model.itemNorms[2], 0)
})

test('the loader refuses an I8 table whose scales are missing, mis-shaped, not F32, negative or non-finite', async (t) => {
  const cases: Array<[string, (x: EditableTensors) => void, RegExp, string]> = [
    ['missing', (x) => { delete x.item_embeddings_shared_scale }, /required tensor is missing: the I8 table item_embeddings_shared needs its per-row scales/, 'item_embeddings_shared_scale'],
    ['shape', (x) => { x.user_embeddings_scale = { dtype: 'F32', shape: [11], data: new Float32Array(11) } }, /shape \[11\] disagrees with the manifest's \[12\]/, 'user_embeddings_scale'],
    ['dtype', (x) => { x.item_embeddings_scale = { dtype: 'F16', shape: [20], data: new Uint16Array(20) } }, /dtype F16, expected F32/, 'item_embeddings_scale'],
    ['negative', (x) => { (x.item_embeddings_scale.data as Float32Array)[3] = -0.5 }, /negative scale -0.5 at row 3/, 'item_embeddings_scale'],
    ['NaN', (x) => { (x.user_embeddings_shared_scale.data as Float32Array)[1] = NaN }, /non-finite value NaN at element 1/, 'user_embeddings_shared_scale'],
    ['Infinity', (x) => { (x.item_embeddings_scale.data as Float32Array)[0] = Infinity }, /non-finite value Infinity at element 0/, 'item_embeddings_scale'],
  ]
  for (const [, edit, pattern, field] of cases) {
    const dir = await written(t, testBundleInput(HYBRID))
    await editTensors(dir, edit)
    await rejects(dir, 'tensors.safetensors', pattern, {}, field)
  }
})

test('the loader refuses an I8 table stored in another dtype, a table of another dtype in an I8 bundle, and a scale that overflows float32', async (t) => {
  const f32 = await written(t, testBundleInput({ ...HYBRID, embeddingDtype: 'F32' }))
  await editManifest(f32, (m) => { m.dtypes.embeddings = 'I8' })
  await rejects(f32, 'tensors.safetensors', /dtype F32, expected I8/, {}, 'item_embeddings')
  const i8 = await written(t, testBundleInput(HYBRID))
  await editManifest(i8, (m) => { m.dtypes.embeddings = 'F16' })
  await rejects(i8, 'tensors.safetensors', /dtype I8, expected F16/, {}, 'item_embeddings')
  const shape = await written(t, testBundleInput(HYBRID))
  await editTensors(shape, (x) => { x.item_embeddings_shared = { dtype: 'I8', shape: [8, 4], data: new Int8Array(32) } })
  await rejects(shape, 'tensors.safetensors', /shape \[8,4\] disagrees with the manifest's \[8,8\]/, {}, 'item_embeddings_shared')
  // 3e38 x 127 is beyond float32: the dequantized row is Infinity, refused like any other.
  const big = await written(t, testBundleInput(HYBRID))
  await editTensors(big, (x) => { (x.item_embeddings_shared_scale.data as Float32Array)[0] = 3e38 })
  await rejects(big, 'tensors.safetensors', /non-finite value -?Infinity/, {}, 'item_embeddings_shared')
})
