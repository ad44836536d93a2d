import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { codeBit } from '../helpers/codes.js'
import { BundleError } from '../../src/model-loader/errors.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { tempDir, testBundleInput, writeTestBundle, type TestBundleOptions } from '../helpers/bundle-fixture.js'
import { editManifest, editTensors, rejects, rewrite } from '../helpers/bundle-edit.js'
import { writeBundle } from '../../src/model-loader/write-bundle.js'

async function bundle (t: { after: (fn: () => Promise<void>) => void }, o: TestBundleOptions = {}): Promise<string> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'b'), o)
  return join(dir, 'b')
}

test('loadModel round-trips a fully dedicated bundle: ids, titles, codes, vectors (zero-copy), norms', async (t) => {
  const dir = await bundle(t, { items: 40, users: 10, dimension: 8, codeBits: 64 })
  const input = testBundleInput({ items: 40, users: 10, dimension: 8, codeBits: 64 })
  const model = await loadModel(dir)
  assert.equal(model.items.size, 40)
  assert.equal(model.users.size, 10)
  assert.equal(model.items.rowOf('i7'), 7)
  assert.equal(model.users.idAt(3), 'u3')
  assert.equal(model.itemMeta.title(5), 'Item 5')
  assert.deepEqual([...model.itemVectors], [...input.tensors.itemEmbeddings])
  assert.equal(model.itemVectors.buffer.byteLength > model.itemVectors.byteLength, true, 'item vectors are a view into the file bytes')
  for (let row = 0; row < 40; row++) {
    for (let j = 0; j < 64; j++) {
      const word = model.itemCodes[row * model.codeWords + (j >> 5)]
      assert.equal((word >>> (j & 31)) & 1, codeBit(input.tensors.itemCodes, 64, row, j))
    }
    let s = 0
    for (let j = 0; j < 8; j++) s += model.itemVectors[row * 8 + j] ** 2
    assert.ok(Math.abs(model.itemNorms[row] - Math.sqrt(s)) < 1e-5)
  }
  assert.equal(model.hnsw?.source, 'built')
  assert.equal(model.stats.copiedTensors, 0)
})

test('loadModel resolves tail items through the hashed rows and serves a prebuilt HNSW file', async (t) => {
  const o: TestBundleOptions = { items: 60, itemDedicated: 20, itemShared: 8, userShared: 4, codeBits: 128, hnsw: { space: 'ip', M: 8, efConstruction: 40, efSearch: 20, randomSeed: 1, prebuild: true } }
  const dir = await bundle(t, o)
  const model = await loadModel(dir)
  assert.equal(model.hnsw?.source, 'file')
  const out = new Float32Array(model.dimension)
  for (const row of [0, 19, 20, 59]) {
    model.itemTable.resolveInto(model.items.idAt(row), out)
    assert.deepEqual([...model.itemVectors.subarray(row * 8, row * 8 + 8)], [...out])
  }
  assert.equal(model.userTable.resolveInto('someone-new', out), 'hashed')
  // The prebuilt index holds exactly the materialized vectors: an item is its own best ip match
  // among a handful of candidates with the largest norms.
  const res = model.hnsw!.index.searchKnn([...model.itemVectors.subarray(25 * 8, 26 * 8)], 60)
  assert.equal(res.neighbors.length, 60)
})

test('loadModel handles F16 tables, concat aggregation, biases, popularity and a code projection', async (t) => {
  const dir = await bundle(t, { embeddingDtype: 'F16', aggregation: 'concat', itemDedicated: 30, itemShared: 6, userShared: 6, bias: true, popularity: true, projection: true, codeBits: 32 })
  const model = await loadModel(dir)
  assert.equal(model.manifest.dtypes.embeddings, 'F16')
  assert.ok(model.itemBias && model.itemBias.length === 50)
  assert.ok(model.userCodeProjection && model.userCodeProjection.length === 8 * 32)
  assert.equal(model.hnsw?.indexDimension, 9, 'the bias adds one coordinate')
  const pop = testBundleInput({ popularity: true, bias: true, embeddingDtype: 'F16', aggregation: 'concat', itemDedicated: 30, itemShared: 6, userShared: 6, projection: true, codeBits: 32 }).tensors.itemPopularity!
  for (let i = 1; i < model.popularItems.length; i++) {
    const a = model.popularItems[i - 1]
    const b = model.popularItems[i]
    assert.ok(pop[a] > pop[b] || (pop[a] === pop[b] && a < b))
  }
})

test('loadModel refuses a bundle directory with no manifest', async (t) => {
  const dir = await bundle(t)
  await rm(join(dir, 'manifest.json'))
  await rejects(dir, 'manifest.json', /cannot read: ENOENT/)
})

test('loadModel refuses a missing listed file', async (t) => {
  const dir = await bundle(t)
  await rm(join(dir, 'users.jsonl'))
  await rejects(dir, 'users.jsonl', /missing/)
})

test('loadModel refuses a file whose size disagrees with the manifest', async (t) => {
  const dir = await bundle(t)
  const bytes = await readFile(join(dir, 'tensors.safetensors'))
  await writeFile(join(dir, 'tensors.safetensors'), bytes.subarray(0, bytes.length - 4))
  await rejects(dir, 'tensors.safetensors', /bytes, the manifest says/)
})

test('loadModel refuses a checksum mismatch, in tensors and in other files', async (t) => {
  const dir = await bundle(t)
  const bytes = await readFile(join(dir, 'tensors.safetensors'))
  bytes[bytes.length - 1] ^= 0xff
  await writeFile(join(dir, 'tensors.safetensors'), bytes)
  await rejects(dir, 'tensors.safetensors', /sha256 .* does not match/)
  const dir2 = await bundle(t)
  const items = await readFile(join(dir2, 'items.jsonl'), 'utf8')
  await writeFile(join(dir2, 'items.jsonl'), items.replace('Item 1"', 'Item X"'))
  await rejects(dir2, 'items.jsonl', /sha256/)
})

test('loadModel refuses tensor shapes that disagree with the manifest', async (t) => {
  const dir = await bundle(t, { items: 10, users: 4, dimension: 8 })
  await editTensors(dir, (tensors) => {
    tensors.item_embeddings = { dtype: 'F32', shape: [10, 4], data: new Float32Array(40) }
    tensors.user_embeddings = { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) }
  })
  await rejects(dir, 'tensors.safetensors', /shape \[10,4\] disagrees with the manifest's \[10,8\]/)
  const dir2 = await bundle(t, { items: 10, users: 4 })
  await editManifest(dir2, (m) => { m.codeBits = 128 })
  await rejects(dir2, 'tensors.safetensors', /item_codes|shape/)
})

test('loadModel refuses a missing required tensor and a wrong dtype', async (t) => {
  const dir = await bundle(t)
  await editTensors(dir, (tensors) => { delete tensors.user_codes })
  await rejects(dir, 'tensors.safetensors', /required tensor is missing/)
  const dir2 = await bundle(t)
  await editTensors(dir2, (tensors) => { tensors.item_bias = { dtype: 'U8', shape: [50], data: new Uint8Array(50) } })
  await rejects(dir2, 'tensors.safetensors', /dtype U8, expected F32/)
})

test('loadModel refuses NaN and Infinity in an embedding table', async (t) => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const dir = await bundle(t, { itemShared: 4, itemDedicated: 40 })
    await editTensors(dir, (tensors) => { (tensors.item_embeddings_shared.data as Float32Array)[3] = bad })
    await rejects(dir, 'tensors.safetensors', /non-finite value/)
  }
})

test('loadModel refuses NaN and Infinity in a fully dedicated item table, naming the element', async (t) => {
  for (const [bad, at] of [[NaN, 0], [Infinity, 123], [-Infinity, 399]] as const) {
    const dir = await bundle(t, { items: 50, dimension: 8 })
    await editTensors(dir, (tensors) => { (tensors.item_embeddings.data as Float32Array)[at] = bad })
    await assert.rejects(loadModel(dir), (err: unknown) => err instanceof BundleError && err.field === 'item_embeddings' && err.message.includes(`non-finite value ${bad} at element ${at}`))
  }
})

test('loadModel refuses duplicate item and user ids, naming the lines', async (t) => {
  const dir = await bundle(t, { items: 5, users: 3 })
  const items = (await readFile(join(dir, 'items.jsonl'), 'utf8')).replace('"id":"i3"', '"id":"i1"')
  await rewrite(dir, 'items.jsonl', items)
  await rejects(dir, 'items.jsonl', /line 4: duplicate id "i1" \(also on line 2\)/)
  const dir2 = await bundle(t, { items: 5, users: 3 })
  await rewrite(dir2, 'users.jsonl', '{"id":"a"}\n{"id":"b"}\n{"id":"a"}\n')
  await rejects(dir2, 'users.jsonl', /duplicate id "a"/)
})

test('loadModel refuses malformed id lists: bad JSON, wrong count, oversized ids', async (t) => {
  const dir = await bundle(t, { items: 5, users: 3 })
  await rewrite(dir, 'users.jsonl', '{"id":"a"}\n{"id":"b"\n{"id":"c"}\n')
  await rejects(dir, 'users.jsonl', /line 2: not valid JSON/)
  await rewrite(dir, 'users.jsonl', '{"id":"a"}\n{"id":42}\n{"id":"c"}\n')
  await rejects(dir, 'users.jsonl', /line 2: id must be a string/)
  await rewrite(dir, 'users.jsonl', '{"id":"a"}\n{"id":"b","title":"x"}\n{"id":"c"}\n')
  await rejects(dir, 'users.jsonl', /line 2: unknown field "title"/)
  const dir2 = await bundle(t, { items: 5, users: 3 })
  await rewrite(dir2, 'users.jsonl', '{"id":"a"}\n{"id":"b"}\n')
  await rejects(dir2, 'users.jsonl', /has 2 entries, the manifest counts 3/)
  const dir3 = await bundle(t, { items: 5, users: 3 })
  await rewrite(dir3, 'users.jsonl', `{"id":"a"}\n{"id":"${'x'.repeat(300)}"}\n{"id":"c"}\n`)
  await rejects(dir3, 'users.jsonl', /line 2: id must be 1..256 UTF-8 bytes/)
})

test('loadModel refuses an unknown formatVersion', async (t) => {
  const dir = await bundle(t)
  await editManifest(dir, (m) => { m.formatVersion = 2 })
  await assert.rejects(loadModel(dir), (err: unknown) => err instanceof BundleError && err.field === 'formatVersion' && /unsupported formatVersion 2/.test(err.message))
})

test('the manifest\'s serving.defaultMethod: mips loads without an index, dr needs the structure, an unknown method or key is refused', async (t) => {
  const plain = await bundle(t, { items: 10, users: 3, hnsw: null, serving: { defaultMethod: 'mips' } })
  assert.deepEqual((await loadModel(plain)).manifest.serving, { defaultMethod: 'mips' })
  const withDr = await bundle(t, { items: 12, users: 3, deepRetrieval: { depth: 2, width: 3, pathsPerItem: 1, embeddingDimension: 2, beam: 2, seed: 1 }, serving: { defaultMethod: 'dr' } })
  assert.equal((await loadModel(withDr)).manifest.serving?.defaultMethod, 'dr')
  await editManifest(plain, (m) => { m.serving = { defaultMethod: 'dr' } })
  await rejects(plain, 'manifest.json', /defaultMethod 'dr' needs the Deep Retrieval structure/, {}, 'serving.defaultMethod')
  await editManifest(plain, (m) => { m.serving = { defaultMethod: 'exact' } })
  await rejects(plain, 'manifest.json', /./, {}, 'serving.defaultMethod')
  await editManifest(plain, (m) => { m.serving = { defaultMethod: 'mips', beam: 4 } })
  await rejects(plain, 'manifest.json', /beam/, {}, 'serving')
  await assert.rejects(writeTestBundle(join(plain, '..', 'w'), { items: 10, users: 3, serving: { defaultMethod: 'dr' } }), /needs a deepRetrieval structure/)
})

test('loadModel refuses hash configurations out of range', async (t) => {
  const cases: Array<[(m: Record<string, any>) => void, RegExp]> = [
    [(m) => { m.tables.item.hash.seeds = [1, 2 ** 32] }, /tables\.item\.hash\.seeds\.1/],
    [(m) => { m.tables.user.sharedRows = -1 }, /tables\.user\.sharedRows/],
    [(m) => { m.tables.user.hash.function = 'md5' }, /tables\.user\.hash\.function/],
    [(m) => { m.tables.item.dedicatedRows = 51 }, /51 dedicated rows for 50 items/],
    [(m) => { m.tables.user.dedicatedRows = 3 }, /counts.users/],
    [(m) => { m.tables.user.aggregation = 'mean' }, /tables\.user\.aggregation/],
  ]
  for (const [edit, pattern] of cases) {
    const dir = await bundle(t)
    await editManifest(dir, edit)
    await rejects(dir, 'manifest.json', pattern)
  }
  const dir = await bundle(t, { userShared: 4 })
  await editManifest(dir, (m) => { m.tables.user.hash.seeds = [5, 5] })
  await rejects(dir, 'manifest.json', /seeds must differ/)
})

test('loadModel refuses file names that would escape the bundle directory', async (t) => {
  const dir = await bundle(t)
  await editManifest(dir, (m) => { m.files['../secret'] = { bytes: 1, sha256: 'a'.repeat(64) } })
  await rejects(dir, 'manifest.json', /not a plain bundle file name/)
})

test('loadModel refuses a truncated safetensors header', async (t) => {
  const dir = await bundle(t)
  const bytes = await readFile(join(dir, 'tensors.safetensors'))
  const truncated = Buffer.from(bytes.subarray(0, 8 + 10))
  await rewrite(dir, 'tensors.safetensors', truncated)
  await rejects(dir, 'tensors.safetensors', /truncated header/)
})

test('loadModel refuses an HNSW file built for another dimension or catalog', async (t) => {
  const hnsw = { space: 'ip' as const, M: 8, efConstruction: 40, efSearch: 20, randomSeed: 1, prebuild: true }
  const dir = await bundle(t, { dimension: 8, hnsw })
  const { dir: other, cleanup } = await tempDir()
  t.after(cleanup)
  await writeBundle(join(other, 'b'), testBundleInput({ dimension: 16, hnsw }))
  await rewrite(dir, 'items.hnsw', await readFile(join(other, 'b', 'items.hnsw')))
  await rejects(dir, 'items.hnsw', /16-dimensional vectors, the model needs 8/)
  const dir2 = await bundle(t, { dimension: 8, hnsw })
  await writeBundle(join(other, 'c'), testBundleInput({ dimension: 8, items: 30, hnsw }))
  await rewrite(dir2, 'items.hnsw', await readFile(join(other, 'c', 'items.hnsw')))
  await rejects(dir2, 'items.hnsw', /30 items, the manifest counts 50/)
  const dir3 = await bundle(t, { hnsw })
  await rewrite(dir3, 'items.hnsw', Buffer.from('definitely not an index'))
  await rejects(dir3, 'items.hnsw', /shorter than hnswlib's 96-byte header/)
})

test('writeBundle replaces an existing bundle atomically and leaves no temporary directories', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'b'), { version: 'v1' })
  await writeTestBundle(join(dir, 'b'), { version: 'v2' })
  const model = await loadModel(join(dir, 'b'), { hnsw: false })
  assert.equal(model.version, 'v2')
  const { readdir } = await import('node:fs/promises')
  assert.deepEqual(await readdir(dir), ['b'])
})

test('loadModel reads seen items per user and the stored item Gram matrix', async (t) => {
  const dir = await bundle(t, { items: 30, users: 5, seen: true, itemDedicated: 20, itemShared: 4 })
  const model = await loadModel(dir, { hnsw: false })
  assert.ok(model.userSeen)
  const u = model.users.rowOf('u2')!
  assert.deepEqual([...model.userSeen.items.subarray(model.userSeen.indptr[u], model.userSeen.indptr[u + 1])], [6, 7, 8])
  const d = model.dimension
  for (const [a, b] of [[0, 0], [1, 3], [7, 2]]) {
    let s = 0
    for (let i = 0; i < 30; i++) s += model.itemVectors[i * d + a] * model.itemVectors[i * d + b]
    assert.ok(Math.abs(model.itemGram[a * d + b] - s) < 1e-3 * Math.max(1, Math.abs(s)), `gram[${a},${b}]`)
  }
  assert.deepEqual(model.foldIn, { alpha: 10, reg: 0.1, regExponent: 0 }, 'defaults when the manifest names none')
})

test('loadModel computes the item Gram matrix when a bundle does not ship one', async (t) => {
  const dir = await bundle(t, { items: 12, users: 2 })
  await editTensors(dir, (tensors) => { delete tensors.item_gram })
  const model = await loadModel(dir, { hnsw: false })
  let s = 0
  for (let i = 0; i < 12; i++) s += model.itemVectors[i * 8 + 1] ** 2
  assert.ok(Math.abs(model.itemGram[1 * 8 + 1] - s) < 1e-9)
})

test('loadModel refuses seen-item lists that are inconsistent', async (t) => {
  const dir = await bundle(t, { items: 10, users: 3, seen: true })
  await editTensors(dir, (tensors) => { (tensors.user_seen_items.data as Int32Array)[4] = 10 })
  await rejects(dir, 'tensors.safetensors', /item row 10 at element 4 is outside 0..9/)
  const dir2 = await bundle(t, { items: 10, users: 3, seen: true })
  await editTensors(dir2, (tensors) => { const p = tensors.user_seen_indptr.data as Int32Array; p[1] = 5; p[2] = 4 })
  await rejects(dir2, 'tensors.safetensors', /offsets decrease at user row 1/)
  const dir3 = await bundle(t, { items: 10, users: 3, seen: true })
  await editTensors(dir3, (tensors) => { delete tensors.user_seen_items })
  await rejects(dir3, 'tensors.safetensors', /come together/)
})

test('loadModel through the hashing worker (every file over the threshold) loads the same model as inline hashing', async (t) => {
  const hnsw = { space: 'ip' as const, M: 8, efConstruction: 40, efSearch: 20, randomSeed: 1, prebuild: true }
  const dir = await bundle(t, { items: 60, itemDedicated: 20, itemShared: 8, hnsw })
  const inline = await loadModel(dir)
  const viaWorker = await loadModel(dir, { hashWorkerMinBytes: 1 })
  assert.equal(viaWorker.hnsw?.source, 'file')
  assert.deepEqual([...viaWorker.itemVectors], [...inline.itemVectors])
  assert.deepEqual([...viaWorker.itemCodes], [...inline.itemCodes])
  for (let row = 0; row < 60; row++) {
    assert.equal(viaWorker.items.idAt(row), inline.items.idAt(row))
    assert.equal(viaWorker.itemMeta.title(row), inline.itemMeta.title(row))
  }
  assert.equal(viaWorker.users.rowOf('u3'), 3)
  // No prebuilt index: hnswlib builds one from the item vectors, which now live in shared memory.
  const built = await loadModel(await bundle(t, { items: 60 }), { hashWorkerMinBytes: 1 })
  assert.equal(built.hnsw?.source, 'built')
  assert.ok(built.itemVectors.buffer instanceof SharedArrayBuffer)
  const query = [...built.itemVectors.subarray(7 * 8, 8 * 8)]
  assert.equal(built.hnsw!.index.searchKnn(query, 60).neighbors.length, 60)
})

test('loadModel through the hashing worker refuses a corrupt byte in any file, naming that file', async (t) => {
  const hnsw = { space: 'ip' as const, M: 8, efConstruction: 40, efSearch: 20, randomSeed: 1, prebuild: true }
  // tensors: read into shared memory by the worker; items/users: read here, hashed there;
  // items.hnsw: read and hashed by the worker alone.
  for (const file of ['tensors.safetensors', 'items.jsonl', 'users.jsonl', 'items.hnsw']) {
    const dir = await bundle(t, { hnsw })
    const bytes = await readFile(join(dir, file))
    bytes[bytes.length >> 1] ^= 0x01
    await writeFile(join(dir, file), bytes)
    await rejects(dir, file, /sha256 [0-9a-f]{64} does not match/, { hashWorkerMinBytes: 1 })
  }
})

test('loadModel refuses a bundle file that is a symlink out of the root, and never quotes the file it points to', async (t) => {
  const { dir: root, cleanup } = await tempDir()
  t.after(cleanup)
  const outside = await tempDir()
  t.after(outside.cleanup)
  await writeTestBundle(join(root, 'b'))
  const secret = join(outside.dir, 'secret.txt')
  await writeFile(secret, 'root:x:0:0:TOP-SECRET-LINE\n')
  // The tensors file moved out of the root and linked back: every byte still matches the manifest.
  await rename(join(root, 'b', 'tensors.safetensors'), join(outside.dir, 'tensors.safetensors'))
  await symlink(join(outside.dir, 'tensors.safetensors'), join(root, 'b', 'tensors.safetensors'))
  await rejects(join(root, 'b'), 'tensors.safetensors', /symlink that resolves outside the models root/, { root })
  // Linked within the root (a sibling bundle's file), the same bundle loads.
  await writeTestBundle(join(root, 'c'))
  await rm(join(root, 'b', 'tensors.safetensors'))
  await symlink(join(root, 'c', 'tensors.safetensors'), join(root, 'b', 'tensors.safetensors'))
  assert.equal((await loadModel(join(root, 'b'), { root })).items.size, 50)
  // A manifest linked to a file outside: refused before it is read, its contents in no message.
  await rm(join(root, 'b', 'manifest.json'))
  await symlink(secret, join(root, 'b', 'manifest.json'))
  await assert.rejects(loadModel(join(root, 'b'), { root }), (err: unknown) => {
    assert.ok(err instanceof BundleError)
    assert.match(err.message, /manifest\.json: is a symlink that resolves outside the models root/)
    assert.doesNotMatch(err.message, /root:x|SECRET/)
    return true
  })
  // Inside the root but not JSON: the parser's message (which quotes the text) is not passed on.
  await rm(join(root, 'b', 'manifest.json'))
  await writeFile(join(root, 'b', 'manifest.json'), 'root:x:0:0:TOP-SECRET-LINE\n')
  await assert.rejects(loadModel(join(root, 'b'), { root }), (err: unknown) => {
    assert.ok(err instanceof BundleError)
    assert.equal(err.message, 'manifest.json: not valid JSON')
    return true
  })
  // The bundle directory itself resolving outside the root.
  await symlink(join(outside.dir), join(root, 'out'))
  await rejects(join(root, 'out'), '.', /resolves outside the models root/, { root })
})

test('loadModel refuses a bundle file that is not a regular file (a FIFO would block the read)', async (t) => {
  const dir = await bundle(t)
  await rm(join(dir, 'users.jsonl'))
  const made = spawnSync('mkfifo', [join(dir, 'users.jsonl')])
  if (made.status !== 0) { t.skip('mkfifo is not available'); return }
  await rejects(dir, 'users.jsonl', /not a regular file/)
})

test('loadModel refuses a corrupt items.hnsw with a recomputed checksum as a BundleError: garbage, truncated, a neighbour id past the count', async (t) => {
  const hnsw = { space: 'ip' as const, M: 8, efConstruction: 40, efSearch: 20, randomSeed: 1, prebuild: true }
  const dir = await bundle(t, { items: 200, hnsw })
  const good = await readFile(join(dir, 'items.hnsw'))
  await rewrite(dir, 'items.hnsw', Buffer.concat([good.subarray(0, 96), Buffer.alloc(good.length - 96, 0xab)]))
  await rejects(dir, 'items.hnsw', /items\.hnsw \(level0\)/)
  await rewrite(dir, 'items.hnsw', good.subarray(0, good.length - 20))
  await rejects(dir, 'items.hnsw', /link lists|bytes follow|ends in/)
  const bad = Buffer.from(good)
  bad.writeUInt32LE(1 + 200 * 1000, 96 + 4) // element 0's first level-0 neighbour
  bad.writeUInt32LE(Math.max(1, bad.readUInt32LE(96) & 0xffff), 96)
  await rewrite(dir, 'items.hnsw', bad)
  await rejects(dir, 'items.hnsw', /links to 200001, past the last element 199/)
  await rewrite(dir, 'items.hnsw', good)
  assert.equal((await loadModel(dir)).hnsw?.source, 'file')
})

test('loadModel builds a missing index in a worker thread and serves it like a prebuilt one', async (t) => {
  const dir = await bundle(t, { items: 300, hnsw: { space: 'l2-mips', M: 8, efConstruction: 40, efSearch: 32, randomSeed: 3, prebuild: false }, bias: true })
  const model = await loadModel(dir)
  assert.equal(model.hnsw?.source, 'built')
  assert.equal(model.hnsw?.indexDimension, 8 + 2)
  assert.equal(model.hnsw?.index.getCurrentCount(), 300)
  const { neighbors } = model.hnsw!.index.searchKnn(Array.from({ length: 10 }, (_, j) => (j < 8 ? 1 : j === 8 ? 1 : 0)), 5)
  assert.equal(neighbors.length, 5)
  assert.ok(neighbors.every((r) => r >= 0 && r < 300))
})
