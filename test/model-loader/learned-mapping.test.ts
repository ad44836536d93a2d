import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { sharedRows } from '../../src/hashing/hybrid-table.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { computeItemGram } from '../../src/model-loader/item-vectors.js'
import { writeBundle, type BundleInput } from '../../src/model-loader/write-bundle.js'
import { tempDir } from '../helpers/bundle-fixture.js'
import { editManifest, editTensors, rejects, type EditableTensors } from '../helpers/bundle-edit.js'
import { parseSafetensors } from '../../src/model-loader/safetensors.js'
import { mappedBundleInput, solvedBundleInput, type MappedOptions } from '../helpers/learned-fixture.js'

async function written (t: TestContext, input: BundleInput): Promise<string> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeBundle(join(dir, 'b'), input)
  return join(dir, 'b')
}

/** The sum of a listed id's rows of [dedicated | shared], from the writer's input. */
function rowSum (dedicated: Float32Array, shared: Float32Array, k: number, d: number, rows: Int32Array, columns: number, i: number): number[] {
  const out = new Array<number>(d).fill(0)
  for (let c = 0; c < columns; c++) {
    const r = rows[i * columns + c]
    if (r < 0) continue
    for (let j = 0; j < d; j++) out[j] += r < k ? dedicated[r * d + j] : shared[(r - k) * d + j]
  }
  return out
}

for (const columns of [1, 2] as const) {
  test(`writer -> loader with a ${columns}-column learned mapping: item and user vectors are their row sums, unlisted ids hash into the shared rows`, async (t) => {
    const o: MappedOptions = { columns, userMapping: true, hnsw: { space: 'ip', M: 8, efConstruction: 40, efSearch: 20, randomSeed: 1, prebuild: true } }
    const input = mappedBundleInput(o)
    const model = await loadModel(await written(t, input))
    const d = model.dimension
    const ti = input.tensors
    for (let i = 0; i < model.items.size; i++) {
      const expected = rowSum(ti.itemEmbeddings, ti.itemSharedEmbeddings!, 10, d, ti.itemRowMap!.rows, columns, i)
      for (let j = 0; j < d; j++) assert.ok(Math.abs(model.itemVectors[i * d + j] - expected[j]) < 1e-6, `item ${i} component ${j}`)
    }
    assert.equal(model.hnsw?.source, 'file')
    const gram = computeItemGram(model.itemVectors, model.items.size, d)
    for (let j = 0; j < d * d; j++) assert.ok(Math.abs(model.itemGram[j] - gram[j]) < 1e-3 * (1 + Math.abs(gram[j])), 'the shipped Gram matrix is of the mapped vectors')

    const v = new Float32Array(d)
    for (let u = 0; u < model.users.size; u++) {
      assert.equal(model.userTable.resolveInto(model.users.idAt(u), v), 'mapped')
      const expected = rowSum(ti.userEmbeddings, ti.userSharedEmbeddings!, 3, d, ti.userRowMap!.rows, columns, u)
      for (let j = 0; j < d; j++) assert.ok(Math.abs(v[j] - expected[j]) < 1e-6)
    }
    const rows = new Int32Array(2)
    for (const [table, shared, k] of [[model.itemTable, ti.itemSharedEmbeddings!, 10], [model.userTable, ti.userSharedEmbeddings!, 3]] as const) {
      assert.equal(table.resolveInto('never-seen', v), 'hashed')
      sharedRows('never-seen', table.config, rows)
      for (let j = 0; j < d; j++) assert.ok(Math.abs(v[j] - (shared[rows[0] * d + j] + shared[rows[1] * d + j])) < 1e-6)
      assert.equal(table.locate('never-seen', rows), 2)
      assert.ok(rows[0] >= k && rows[1] >= k, 'unlisted ids use shared rows only')
    }
  })
}

test('the writer refuses a mapping its manifest does not name, and a manifest mapping without its tensor', async (t) => {
  const input = mappedBundleInput()
  await assert.rejects(written(t, { ...input, tensors: { ...input.tensors, itemRowMap: undefined } }), /tables\.item\.learnedMapping needs tensors\.itemRowMap/)
  const { learnedMapping, ...plain } = input.tables.item
  assert.ok(learnedMapping)
  await assert.rejects(written(t, { ...input, tables: { ...input.tables, item: plain } }), /itemRowMap given but tables\.item has no learnedMapping/)
})

test('the loader refuses a learned mapping tensor that is missing, mistyped, misshapen or out of range', async (t) => {
  const cases: Array<[(t: Parameters<Parameters<typeof editTensors>[1]>[0]) => void, RegExp]> = [
    [(x) => { delete x.item_rows }, /required tensor is missing \(named by tables\.item\.learnedMapping\.tensor\)/],
    [(x) => { x.item_rows = { dtype: 'F32', shape: [40, 2], data: new Float32Array(80) } }, /dtype F32, expected I32/],
    [(x) => { x.item_rows = { dtype: 'I32', shape: [39, 2], data: new Int32Array(78) } }, /shape \[39,2\] disagrees/],
    [(x) => { x.item_rows = { dtype: 'I32', shape: [40, 3], data: new Int32Array(120) } }, /expected \[40, 1\] or \[40, 2\]/],
    [(x) => { x.item_rows = { dtype: 'I32', shape: [80], data: new Int32Array(80) } }, /expected \[40, 1\] or \[40, 2\]/],
    [(x) => { (x.item_rows.data as Int32Array)[6] = -1 }, /row -1 of item line 3 \(column 0\) is outside 0\.\.15/],
    [(x) => { (x.item_rows.data as Int32Array)[7] = -2 }, /row -2 of item line 3 \(column 1\) is outside -1\.\.15/],
    [(x) => { (x.item_rows.data as Int32Array)[9] = 16 }, /row 16 of item line 4 \(column 1\) is outside -1\.\.15 \(10 dedicated \+ 6 shared rows\)/],
    [(x) => { delete x.item_embeddings }, /required tensor is missing/],
    [(x) => { delete x.item_embeddings_shared }, /required tensor is missing/],
  ]
  for (const [edit, pattern] of cases) {
    const dir = await written(t, mappedBundleInput())
    await editTensors(dir, edit)
    await rejects(dir, 'tensors.safetensors', pattern)
  }
  const dir = await written(t, mappedBundleInput())
  await editManifest(dir, (m) => { m.tables.item.aggregation = 'concat' })
  await rejects(dir, 'manifest.json', /needs aggregation 'sum', got 'concat'/, {}, 'tables.item.learnedMapping')
})

test('the loader refuses solved user vectors with rows, a mapping, no fold-in constants, no training items, or on the item table', async (t) => {
  const manifestCases: Array<[(m: Record<string, any>) => void, RegExp, string]> = [
    [(m) => { m.tables.user.dedicatedRows = 2 }, /dedicatedRows and sharedRows must be 0, got 2 and 0/, 'tables.user.vectors'],
    [(m) => { m.tables.user.sharedRows = 4 }, /dedicatedRows and sharedRows must be 0, got 0 and 4/, 'tables.user.vectors'],
    [(m) => { m.tables.user.learnedMapping = { kind: 'co-cluster', tensor: 'user_rows' } }, /no rows to map to/, 'tables.user.learnedMapping'],
    [(m) => { delete m.foldIn }, /need the training fold-in constants/, 'foldIn'],
    [(m) => { m.tables.item.vectors = 'solved' }, /only the user table/, 'tables.item.vectors'],
    [(m) => { m.tables.user.vectors = 'computed' }, /tables\.user\.vectors|Invalid option/, 'tables.user.vectors'],
  ]
  for (const [edit, pattern, field] of manifestCases) {
    const dir = await written(t, solvedBundleInput())
    await editManifest(dir, edit)
    await rejects(dir, 'manifest.json', pattern, {}, field)
  }
  const dir = await written(t, solvedBundleInput())
  await editTensors(dir, (x) => { delete x.user_seen_indptr; delete x.user_seen_items })
  await rejects(dir, 'tensors.safetensors', /required tensor is missing: solved user vectors/, {}, 'user_seen_indptr')
  const badRows = await written(t, solvedBundleInput())
  await editTensors(badRows, (x) => { x.user_embeddings = { dtype: 'F32', shape: [2, 8], data: new Float32Array(16) } })
  await rejects(badRows, 'tensors.safetensors', /disagrees with the manifest's \[0,8\]/, {}, 'user_embeddings')
})

test('a solved-user bundle loads with or without an empty user_embeddings tensor', async (t) => {
  const dir = await written(t, solvedBundleInput())
  assert.equal((await loadModel(dir)).userTable.config.vectors, 'solved')
  await editTensors(dir, (x) => { delete x.user_embeddings })
  const model = await loadModel(dir)
  assert.equal(model.userTable.resolveInto(model.users.idAt(0), new Float32Array(model.dimension)), 'none', 'no stored vector: the service solves it')
})

test('a U16 mapping (65535: no second row) loads in place and serves the same vectors as its I32 twin', async (t) => {
  const o: MappedOptions = { userMapping: true, hnsw: { space: 'ip', M: 8, efConstruction: 40, efSearch: 20, randomSeed: 1, prebuild: true } }
  const i32 = await loadModel(await written(t, mappedBundleInput(o)))
  const dir = await written(t, mappedBundleInput({ ...o, mappingDtype: 'U16' }))
  const st = parseSafetensors(await readFile(join(dir, 'tensors.safetensors')))
  assert.equal(st.tensors.get('item_rows')?.dtype, 'U16')
  assert.equal(st.tensors.get('user_rows')?.dtype, 'U16')
  const u16 = await loadModel(dir)
  assert.ok(u16.itemTable.mapping?.rows instanceof Uint16Array)
  assert.ok(u16.itemTable.mapping.rows.buffer.byteLength > u16.itemTable.mapping.rows.byteLength, 'a view into the file bytes')
  assert.equal(u16.itemTable.mapping.rows[0 * 2 + 1], 65535, 'item line 0 has one row')
  assert.deepEqual([...u16.itemVectors], [...i32.itemVectors])
  assert.deepEqual([...u16.itemGram], [...i32.itemGram])
  const a = new Float32Array(8)
  const b = new Float32Array(8)
  for (let u = 0; u < u16.users.size; u++) {
    assert.equal(u16.userTable.resolveInto(u16.users.idAt(u), a), 'mapped')
    i32.userTable.resolveInto(i32.users.idAt(u), b)
    assert.deepEqual([...a], [...b], `user ${u}`)
  }
  const located = new Int32Array(2)
  assert.equal(u16.itemTable.locate('i0', located), 1, 'the sentinel is no row, not row 65535')
})

test('the writer refuses a U16 mapping for a table of more than 65535 rows or a value that does not fit; the loader refuses the same', async (t) => {
  const big = mappedBundleInput({ itemRows: [10, 65_530], dimension: 2, mappingDtype: 'U16' })
  await assert.rejects(written(t, big), /itemRowMap: a U16 mapping addresses at most 65535 rows, tables\.item has 65540; use I32/)
  const wrap = mappedBundleInput({ mappingDtype: 'U16' })
  wrap.tensors.itemRowMap!.rows[4] = 70_000
  await assert.rejects(written(t, wrap), /itemRowMap: value 70000 at 4 does not fit a U16 mapping/)

  // An I32 bundle of 65540 rows whose mapping is then stored as U16.
  const dir = await written(t, { ...big, tensors: { ...big.tensors, itemRowMap: { ...big.tensors.itemRowMap!, dtype: 'I32' } } })
  await editTensors(dir, (x) => { x.item_rows = { dtype: 'U16', shape: x.item_rows.shape, data: Uint16Array.from(x.item_rows.data as Int32Array, (v) => v < 0 ? 65535 : v) } })
  await rejects(dir, 'tensors.safetensors', /a U16 mapping addresses at most 65535 rows \(65535 means no second row\); the table has 65540/, {}, 'item_rows')
})

test('the loader refuses a U16 mapping value out of range, the sentinel in column 0, and a mapping in another integer dtype', async (t) => {
  const cases: Array<[(x: EditableTensors) => void, RegExp]> = [
    [(x) => { (x.item_rows.data as Uint16Array)[6] = 65535 }, /row 65535 of item line 3 \(column 0\) is outside 0\.\.15 \(10 dedicated/],
    [(x) => { (x.item_rows.data as Uint16Array)[9] = 16 }, /row 16 of item line 4 \(column 1\) is outside 0\.\.15 or 65535 \(10 dedicated \+ 6 shared rows\)/],
    [(x) => { x.item_rows = { dtype: 'U8', shape: [40, 2], data: new Uint8Array(80) } }, /dtype U8, expected I32 or U16/],
    [(x) => { x.item_rows = { dtype: 'U16', shape: [40, 3], data: new Uint16Array(120) } }, /expected \[40, 1\] or \[40, 2\]/],
  ]
  for (const [edit, pattern] of cases) {
    const dir = await written(t, mappedBundleInput({ mappingDtype: 'U16' }))
    await editTensors(dir, edit)
    await rejects(dir, 'tensors.safetensors', pattern, {}, 'item_rows')
  }
})
