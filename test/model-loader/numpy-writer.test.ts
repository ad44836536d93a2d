import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { quantizeRowsI8 } from '../../src/hashing/int8-rows.js'
import { tempDir } from '../helpers/bundle-fixture.js'
import { createRecommender } from '../../src/recommend/recommender.js'
import { createModelEngines } from '../../src/search/engines.js'

const script = fileURLToPath(new URL('./fixtures/numpy_writer.py', import.meta.url))
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0

// docs/model-bundle.md promises that a Python trainer can write a bundle with numpy alone: this
// runs such a writer (the docs' worked example) and checks what the loader makes of it.
test('a bundle written by numpy following docs/model-bundle.md loads with the vectors, codes and titles it meant', { skip: hasNumpy ? false : 'python3 with numpy is not installed' }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const out = join(dir, 'bundle')
  const run = spawnSync('python3', [script, out], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  const expected = JSON.parse(await readFile(`${out}.expected.json`, 'utf8'))
  const model = await loadModel(out)
  const d = model.dimension
  expected.itemIds.forEach((id: string, row: number) => {
    assert.equal(model.items.rowOf(id), row)
    assert.equal(model.itemMeta.title(row), expected.titles[row])
    for (let j = 0; j < d; j++) assert.ok(Math.abs(model.itemVectors[row * d + j] - expected.itemVectors[row][j]) < 1e-5, `item ${id} component ${j}`)
    for (let j = 0; j < model.codeBits; j++) {
      const bit = (model.itemCodes[row * model.codeWords + (j >> 5)] >>> (j & 31)) & 1
      assert.equal(bit, expected.itemBits[row][j], `item ${id} bit ${j}`)
    }
  })
  const v = new Float32Array(d)
  assert.equal(model.userTable.resolveInto(expected.unseenUser, v), 'hashed')
  for (let j = 0; j < d; j++) assert.ok(Math.abs(v[j] - expected.unseenUserVector[j]) < 1e-5)
  assert.deepEqual([...model.userSeen!.items], [0, 1, 3])
  assert.equal(model.hnsw?.source, 'built')
})

for (const dtype of ['I32', 'U16'] as const) {
    test(`a numpy-written bundle with a learned ${dtype} item mapping and solved users loads and serves each user their fold-in`, { skip: hasNumpy ? false : 'python3 with numpy is not installed' }, async (t) => {
    const { dir, cleanup } = await tempDir()
    t.after(cleanup)
    const out = join(dir, 'bundle')
    const run = spawnSync('python3', [script, out, 'learned', ...(dtype === 'U16' ? ['u16'] : [])], { encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const expected = JSON.parse(await readFile(`${out}.expected.json`, 'utf8'))
    const model = await loadModel(out)
    assert.equal(model.itemTable.mapping?.rows instanceof Uint16Array, dtype === 'U16')
    const d = model.dimension
    expected.itemIds.forEach((id: string, row: number) => {
      for (let j = 0; j < d; j++) assert.ok(Math.abs(model.itemVectors[row * d + j] - expected.itemVectors[row][j]) < 1e-5, `item ${id} component ${j}`)
    })
    const v = new Float32Array(d)
    assert.equal(model.itemTable.resolveInto(expected.unseenItem, v), 'hashed')
    for (let j = 0; j < d; j++) assert.ok(Math.abs(v[j] - expected.unseenItemVector[j]) < 1e-5)
    const rec = createRecommender(model, createModelEngines(model))
    expected.userVectors.forEach((u: number[], row: number) => {
      const r = rec.forUser(model.users.idAt(row), { k: 10, method: 'mips' })
      assert.equal(r.source, 'solved')
      assert.ok(r.items.length > 0)
      // Exact MIPS scores are item . u: the served vector is numpy's solve of the iALS user step.
      for (const item of r.items) {
        const i = model.items.rowOf(item.id)!
        let dot = 0
        for (let j = 0; j < d; j++) dot += expected.itemVectors[i][j] * u[j]
        assert.ok(Math.abs(item.score - dot) < 1e-4, `user ${row} item ${item.id}: ${item.score} vs ${dot}`)
      }
    })
  })
}

test('a numpy-written I8 bundle (int8 rows, float32 scales, the docs\' snippet) loads with the dequantized vectors numpy meant', { skip: hasNumpy ? false : 'python3 with numpy is not installed' }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const out = join(dir, 'bundle')
  const run = spawnSync('python3', [script, out, 'i8'], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  const expected = JSON.parse(await readFile(`${out}.expected.json`, 'utf8'))
  const model = await loadModel(out)
  assert.equal(model.manifest.dtypes.embeddings, 'I8')
  const d = model.dimension
  // numpy's s * q in float32 and the loader's are the same float32 products: equal, not close.
  expected.itemIds.forEach((id: string, row: number) => {
    for (let j = 0; j < d; j++) assert.equal(model.itemVectors[row * d + j], Math.fround(expected.itemVectors[row][j]), `item ${id} component ${j}`)
  })
  const v = new Float32Array(d)
  assert.equal(model.userTable.resolveInto(expected.unseenUser, v), 'hashed')
  for (let j = 0; j < d; j++) assert.ok(Math.abs(v[j] - expected.unseenUserVector[j]) < 1e-5)
  assert.equal(model.userTable.resolveInto(model.users.idAt(1), v), 'dedicated')
  for (let j = 0; j < d; j++) assert.equal(v[j], Math.fround(expected.userVectors[1][j]))
  // The trainer's helper rounds as the docs' numpy snippet does, ties and zero rows included.
  const probe = quantizeRowsI8(Float32Array.from(expected.quantProbe.flat()), expected.quantProbe.length, d)
  assert.deepEqual([...probe.q], expected.quantProbeQ.flat())
  assert.deepEqual([...probe.scale], expected.quantProbeScale.map(Math.fround))
})
