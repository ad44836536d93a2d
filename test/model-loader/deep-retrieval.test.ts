import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { tempDir, writeTestBundle, type TestBundleOptions } from '../helpers/bundle-fixture.js'
import { editManifest, editTensors, readManifest, rejects } from '../helpers/bundle-edit.js'
import { randomStructure } from '../helpers/deep-retrieval-fixture.js'

const TENSORS = 'tensors.safetensors'

async function bundle (t: { after: (fn: () => Promise<void>) => void }, o: TestBundleOptions = {}): Promise<string> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'b'), { items: 30, users: 5, dimension: 6, hnsw: null, ...o })
  return join(dir, 'b')
}

const LINEAR = { depth: 3, width: 4, pathsPerItem: 2, embeddingDimension: 3, beam: 5, seed: 9 }
const MLP = { ...LINEAR, hidden: 5 }

test('a bundle with a Deep Retrieval structure round-trips it: shape, weights, item paths and default beam (linear and MLP)', async (t) => {
  for (const shape of [LINEAR, MLP]) {
    const dir = await bundle(t, { deepRetrieval: shape })
    const model = await loadModel(dir)
    const expected = randomStructure({ ...shape, items: 30, dimension: 6 })
    assert.ok(model.deepRetrieval !== null)
    assert.deepEqual(model.deepRetrieval.network.shape, expected.network.shape)
    assert.deepEqual([...model.deepRetrieval.itemKeys], [...expected.itemKeys])
    assert.equal(model.deepRetrieval.beam, 5)
    model.deepRetrieval.network.layers.forEach((l, d) => {
      assert.deepEqual([...l.weight], [...expected.network.layers[d].weight])
      assert.deepEqual([...l.bias], [...expected.network.layers[d].bias])
      assert.deepEqual(l.outWeight === null ? null : [...l.outWeight], expected.network.layers[d].outWeight === null ? null : [...expected.network.layers[d].outWeight!])
    })
    assert.deepEqual([...model.deepRetrieval.network.nodeEmbeddings], [...expected.network.nodeEmbeddings])
    const m = await readManifest(dir)
    assert.deepEqual(m.deepRetrieval, { depth: 3, width: 4, pathsPerItem: 2, embeddingDimension: 3, hidden: shape === MLP ? 5 : 0, beam: 5 })
  }
})

test('a bundle without a Deep Retrieval structure loads with none, and node ids are written as U8 up to 256 nodes, I32 beyond', async (t) => {
  assert.equal((await loadModel(await bundle(t))).deepRetrieval, null)
  const wide = await bundle(t, { deepRetrieval: { depth: 1, width: 300, pathsPerItem: 1 } })
  const model = await loadModel(wide)
  assert.equal(model.deepRetrieval!.network.shape.width, 300)
  let dtype = ''
  await editTensors(wide, (tensors) => { dtype = tensors.dr_item_paths.dtype })
  assert.equal(dtype, 'I32')
})

test('a node id outside 0..width-1 refuses the bundle, naming the tensor, the item and the layer', async (t) => {
  for (const bad of [4, 255]) {
    const dir = await bundle(t, { deepRetrieval: LINEAR })
    await editTensors(dir, (tensors) => { (tensors.dr_item_paths.data as Uint8Array)[7] = bad })
    await rejects(dir, TENSORS, new RegExp(`node id ${bad} at element 7 \\(item row 1, path 0, layer 1\\) is outside 0..3`), {}, 'dr_item_paths')
  }
  const dir = await bundle(t, { deepRetrieval: LINEAR })
  await editTensors(dir, (tensors) => {
    const nodes = Int32Array.from(tensors.dr_item_paths.data as Uint8Array)
    nodes[0] = -1
    tensors.dr_item_paths = { dtype: 'I32', shape: tensors.dr_item_paths.shape, data: nodes }
  })
  await rejects(dir, TENSORS, /node id -1 at element 0/, {}, 'dr_item_paths')
})

test('wrong shapes and dtypes of the Deep Retrieval tensors refuse the bundle, naming the tensor', async (t) => {
  const cases: [string, (tensors: Parameters<Parameters<typeof editTensors>[1]>[0]) => void, RegExp][] = [
    ['dr_item_paths', (x) => { x.dr_item_paths = { dtype: 'U8', shape: [30, 3, 3], data: new Uint8Array(270) } }, /shape \[30,3,3\] disagrees with the manifest's \[30,2,3\]/],
    ['dr_item_paths', (x) => { x.dr_item_paths = { dtype: 'F32', shape: [30, 2, 3], data: new Float32Array(180) } }, /dtype F32, expected U8 or I32/],
    ['dr_layer1_weight', (x) => { x.dr_layer1_weight = { dtype: 'F32', shape: [4, 8], data: new Float32Array(32) } }, /shape \[4,8\] disagrees with the manifest's \[4,9\]/],
    ['dr_node_embeddings', (x) => { x.dr_node_embeddings = { dtype: 'F32', shape: [2, 4, 2], data: new Float32Array(16) } }, /disagrees/],
    ['dr_layer2_bias', (x) => { delete x.dr_layer2_bias }, /required tensor is missing/],
    ['dr_layer0_out_weight', (x) => { x.dr_layer0_out_weight = { dtype: 'F32', shape: [4, 2], data: new Float32Array(8) } }, /hidden is 0/],
    ['dr_layer7_weight', (x) => { x.dr_layer7_weight = { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, /not a tensor of a depth-3/],
  ]
  for (const [name, edit, pattern] of cases) {
    const dir = await bundle(t, { deepRetrieval: LINEAR })
    await editTensors(dir, edit)
    await rejects(dir, TENSORS, pattern, {}, name)
  }
})

test('NaN or Infinity in any Deep Retrieval weight refuses the bundle, naming the tensor and element', async (t) => {
  for (const [name, bad] of [['dr_layer0_weight', NaN], ['dr_node_embeddings', Infinity], ['dr_layer2_out_bias', -Infinity]] as const) {
    const dir = await bundle(t, { deepRetrieval: MLP })
    await editTensors(dir, (tensors) => { (tensors[name].data as Float32Array)[1] = bad })
    await rejects(dir, TENSORS, new RegExp(`non-finite value ${bad} at element 1`), {}, name)
  }
})

test('the manifest entry and the tensors come together, and an impossible shape is refused by field', async (t) => {
  const orphan = await bundle(t, { deepRetrieval: LINEAR })
  await editManifest(orphan, (m) => { delete m.deepRetrieval })
  await rejects(orphan, TENSORS, /manifest has no deepRetrieval entry/)
  const missing = await bundle(t)
  await editManifest(missing, (m) => { m.deepRetrieval = { depth: 2, width: 4, pathsPerItem: 1, embeddingDimension: 2, hidden: 0, beam: 4 } })
  await rejects(missing, TENSORS, /required tensor is missing/)
  const cases: [Record<string, number>, string, RegExp][] = [
    [{ width: 4096, depth: 3 }, 'deepRetrieval.width', /exceeds 134217728 paths/],
    [{ embeddingDimension: 0 }, 'deepRetrieval.embeddingDimension', /at least 1 when depth > 1/],
    [{ beam: 5000 }, 'deepRetrieval.beam', /1024/],
    [{ depth: 9 }, 'deepRetrieval.depth', /8/],
  ]
  for (const [edit, field, pattern] of cases) {
    const dir = await bundle(t, { deepRetrieval: LINEAR })
    await editManifest(dir, (m) => { Object.assign(m.deepRetrieval, edit) })
    await rejects(dir, 'manifest.json', pattern, {}, field)
  }
})
