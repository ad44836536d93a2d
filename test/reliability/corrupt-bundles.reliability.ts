/**
 * Corrupt bundles reloaded into a running service: files linked out of the models root, truncated,
 * bit-flipped and garbage tensors and HNSW indexes (checksums recomputed, so the deeper checks are
 * what refuse them), NaN and Infinity, duplicate ids, oversized and malformed headers, files that
 * are not files. Every reload must be refused with a problem (422 invalid-bundle, or 400 for a
 * directory that escapes the root) within the hang guard, never a 500; no answer may quote a file
 * outside the root; the previous model must keep serving, its HNSW index included.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createTestApp, TEST_TOKEN } from '../app/helpers.js'
import { editManifest, editTensors, readManifest, rewrite } from '../helpers/bundle-edit.js'
import { seededRandom, tempDir, writeTestBundle, type TestBundleOptions } from '../helpers/bundle-fixture.js'

const SECRET = 'root:x:0:0:TOP-SECRET-LINE'
const HNSW = { space: 'ip' as const, M: 8, efConstruction: 40, efSearch: 32, randomSeed: 1, prebuild: true }
const BUNDLE: TestBundleOptions = { items: 300, users: 20, dimension: 8, hnsw: HNSW }

interface Corruption {
  readonly name: string
  /** Breaks the bundle written at `dir` (a directory under the models root); `outside` is a directory outside it. */
  readonly apply: (dir: string, outside: string) => Promise<void>
  readonly status?: number
}

function flipBits (bytes: Buffer, count: number, from: number, seed: number): Buffer {
  const out = Buffer.from(bytes)
  const rand = seededRandom(seed)
  for (let i = 0; i < count; i++) {
    const at = from + Math.floor(rand() * (out.length - from))
    out[at] ^= 1 << Math.floor(rand() * 8)
  }
  return out
}

const file = (dir: string, name: string): string => join(dir, name)
const moveOut = async (dir: string, outside: string, name: string): Promise<void> => {
  await rename(file(dir, name), join(outside, name))
  await symlink(join(outside, name), file(dir, name))
}

const CORRUPTIONS: Corruption[] = [
  { name: 'tensors.safetensors linked to a file outside the root', apply: (dir, outside) => moveOut(dir, outside, 'tensors.safetensors') },
  { name: 'items.jsonl linked to a file outside the root', apply: (dir, outside) => moveOut(dir, outside, 'items.jsonl') },
  { name: 'items.hnsw linked to a file outside the root', apply: (dir, outside) => moveOut(dir, outside, 'items.hnsw') },
  {
    name: 'manifest.json linked to a secret outside the root',
    apply: async (dir, outside) => {
      await writeFile(join(outside, 'passwd'), `${SECRET}\n`)
      await rm(file(dir, 'manifest.json'))
      await symlink(join(outside, 'passwd'), file(dir, 'manifest.json'))
    },
  },
  { name: 'the bundle directory linked outside the root', status: 400, apply: async (dir, outside) => { await rename(dir, join(outside, 'moved')); await symlink(join(outside, 'moved'), dir) } },
  { name: 'a FIFO as users.jsonl', apply: async (dir) => { await rm(file(dir, 'users.jsonl')); assert.equal(spawnSync('mkfifo', [file(dir, 'users.jsonl')]).status, 0) } },
  { name: 'a manifest that is not JSON (the secret, inside the root)', apply: (dir) => writeFile(file(dir, 'manifest.json'), SECRET) },
  { name: 'a manifest over 1 MiB', apply: (dir) => writeFile(file(dir, 'manifest.json'), `{"pad":"${'x'.repeat(1_100_000)}"}`) },
  { name: 'an unknown formatVersion', apply: (dir) => editManifest(dir, (m) => { m.formatVersion = 99 }) },
  { name: 'counts that disagree with items.jsonl', apply: (dir) => editManifest(dir, (m) => { m.counts.items = 301 }) },
  { name: 'a checksum that does not match', apply: async (dir) => { const b = await readFile(file(dir, 'users.jsonl')); b[0] ^= 1; await writeFile(file(dir, 'users.jsonl'), b) } },
  { name: 'tensors truncated (size and checksum recomputed)', apply: async (dir) => rewrite(dir, 'tensors.safetensors', (await readFile(file(dir, 'tensors.safetensors'))).subarray(0, 1000)) },
  { name: 'a safetensors header length of 2^40', apply: async (dir) => { const b = Buffer.from(await readFile(file(dir, 'tensors.safetensors'))); b.writeBigUInt64LE(2n ** 40n, 0); await rewrite(dir, 'tensors.safetensors', b) } },
  { name: 'a safetensors header that is not JSON', apply: async (dir) => { const b = Buffer.from(await readFile(file(dir, 'tensors.safetensors'))); b.fill(0x7b, 8, 40); await rewrite(dir, 'tensors.safetensors', b) } },
  { name: '64 bit flips in the tensors header', apply: async (dir) => { const b = await readFile(file(dir, 'tensors.safetensors')); await rewrite(dir, 'tensors.safetensors', flipBits(b.subarray(0, 600), 64, 8, 5).length === 600 ? Buffer.concat([flipBits(b.subarray(0, 600), 64, 8, 5), b.subarray(600)]) : b) } },
  { name: 'NaN in the item embeddings', apply: (dir) => editTensors(dir, (t) => { (t.item_embeddings.data as Float32Array)[17] = Number.NaN }) },
  { name: 'Infinity in the user embeddings', apply: (dir) => editTensors(dir, (t) => { (t.user_embeddings.data as Float32Array)[3] = Number.POSITIVE_INFINITY }) },
  { name: 'a tensor of the wrong shape', apply: (dir) => editTensors(dir, (t) => { t.item_codes.shape = [299, 8]; t.item_codes.data = (t.item_codes.data as Uint8Array).subarray(0, 299 * 8) }) },
  {
    name: 'duplicate item ids',
    apply: async (dir) => {
      const lines = (await readFile(file(dir, 'items.jsonl'), 'utf8')).split('\n')
      lines[5] = lines[4]
      await rewrite(dir, 'items.jsonl', lines.join('\n'))
    },
  },
  {
    name: 'duplicate user ids',
    apply: async (dir) => {
      const lines = (await readFile(file(dir, 'users.jsonl'), 'utf8')).split('\n')
      lines[2] = lines[1]
      await rewrite(dir, 'users.jsonl', lines.join('\n'))
    },
  },
  { name: 'an id list that is not UTF-8', apply: async (dir) => { const b = Buffer.from(await readFile(file(dir, 'items.jsonl'))); b[8] = 0xff; await rewrite(dir, 'items.jsonl', b) } },
  { name: 'items.hnsw garbage after its header', apply: async (dir) => { const b = Buffer.from(await readFile(file(dir, 'items.hnsw'))); b.fill(0xab, 96); await rewrite(dir, 'items.hnsw', b) } },
  { name: 'items.hnsw truncated', apply: async (dir) => rewrite(dir, 'items.hnsw', (await readFile(file(dir, 'items.hnsw'))).subarray(0, 5000)) },
  { name: 'items.hnsw shorter than its header', apply: (dir) => rewrite(dir, 'items.hnsw', 'not an index') },
  { name: 'items.hnsw with a neighbour id past the count', apply: async (dir) => { const b = Buffer.from(await readFile(file(dir, 'items.hnsw'))); b.writeUInt32LE(Math.max(1, b.readUInt32LE(96) & 0xffff), 96); b.writeUInt32LE(123_456, 100); await rewrite(dir, 'items.hnsw', b) } },
  { name: 'items.hnsw with max_elements of 2^31', apply: async (dir) => { const b = Buffer.from(await readFile(file(dir, 'items.hnsw'))); b.writeUInt32LE(2 ** 31, 8); await rewrite(dir, 'items.hnsw', b) } },
  { name: 'items.hnsw of another dimension', apply: async (dir, outside) => { await writeTestBundle(join(outside, 'wide'), { ...BUNDLE, dimension: 16 }); await rewrite(dir, 'items.hnsw', await readFile(join(outside, 'wide', 'items.hnsw'))) } },
  { name: 'items.hnsw with 200 bit flips in its links', apply: async (dir) => { const b = await readFile(file(dir, 'items.hnsw')); await rewrite(dir, 'items.hnsw', flipBits(b, 200, 96, 11)) } },
  { name: 'items.hnsw with its upper-level lists cut', apply: async (dir) => { const b = await readFile(file(dir, 'items.hnsw')); const h = (await readManifest(dir)).counts.items as number; await rewrite(dir, 'items.hnsw', b.subarray(0, 96 + h * b.readUInt32LE(24) + 4)) } },
]

test(`${CORRUPTIONS.length} corrupt bundles reloaded into a serving process: each refused with a problem, never a 500 or a hang, no outside file quoted, the previous model serving`, { timeout: 300_000 }, async (t) => {
  assert.ok(CORRUPTIONS.length >= 20)
  const { app, root } = await createTestApp(t, { bundle: { ...BUNDLE, version: 'v1' }, config: { MAX_EVENT_LOOP_DELAY_MS: 0 } })
  const outside = await tempDir()
  t.after(outside.cleanup)
  const probe = async (): Promise<void> => {
    const res = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=5&method=mips' })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().modelVersion, 'v1')
    assert.equal(res.json().method, 'mips')
  }
  await probe()
  for (const [i, c] of CORRUPTIONS.entries()) {
    const name = `bad-${i}`
    const dir = join(root, name)
    await writeTestBundle(dir, { ...BUNDLE, version: `bad-${i}`, seed: 100 + i })
    const out = join(outside.dir, name)
    await mkdir(out)
    await c.apply(dir, out)
    const started = Date.now()
    const res = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: { dir: name } })
    await t.test(c.name, async () => {
      assert.equal(res.statusCode, c.status ?? 422, res.body)
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
      assert.equal(res.json().type, c.status === 400 ? 'urn:hashrec:problem:invalid-parameters' : 'urn:hashrec:problem:invalid-bundle')
      assert.doesNotMatch(res.body, /TOP-SECRET|root:x/)
      assert.ok(Date.now() - started < 60_000, 'refused, not hung')
      // The first model serves on, its HNSW index included.
      await probe()
    })
  }
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.match(metrics, new RegExp(`^hashrec_model_reloads_total\\{result="refused"\\} ${CORRUPTIONS.length}$`, 'm'))
  assert.doesNotMatch(metrics, /hashrec_model_reloads_total\{result="error"\}/)
})
