import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { HashWorker, sharedBuffer, ShortReadError } from '../../src/model-loader/sha256.js'
import { seededRandom, tempDir } from '../helpers/bundle-fixture.js'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

async function files (t: { after: (fn: () => Promise<void>) => void }, sizes: number[]): Promise<{ dir: string, data: Buffer[] }> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const random = seededRandom(7)
  const data = sizes.map((n) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256))))
  await Promise.all(data.map((d, i) => writeFile(join(dir, `f${i}`), d)))
  return { dir, data }
}

test('HashWorker digests match sha256 for a read into shared memory, shared bytes and a file, in one worker', async (t) => {
  const { dir, data } = await files(t, [0, 1, 70_001, 3 * 2 ** 20 + 5])
  const worker = new HashWorker()
  t.after(() => worker.close())
  const read = worker.readAndHash(join(dir, 'f3'), data[3].length)
  const shared = sharedBuffer(data[2].length)
  data[2].copy(shared)
  const [bytes, readDigest, sharedDigest, fileDigest, emptyDigest, plainDigest] = await Promise.all([
    read.bytes, read.digest, worker.hashShared(shared), worker.hashFile(join(dir, 'f1')), worker.hashFile(join(dir, 'f0')), worker.hashShared(data[2]),
  ])
  assert.ok(bytes.buffer instanceof SharedArrayBuffer, 'the bytes live in shared memory')
  assert.deepEqual(bytes, data[3])
  assert.equal(readDigest, sha(data[3]))
  assert.equal(sharedDigest, sha(data[2]))
  assert.equal(plainDigest, sha(data[2]), 'bytes outside shared memory are hashed inline')
  assert.equal(fileDigest, sha(data[1]))
  assert.equal(emptyDigest, sha(data[0]))
})

test('HashWorker rejects the bytes and the digest of a file shorter than expected, and keeps serving other jobs', async (t) => {
  const { dir, data } = await files(t, [1000, 10])
  const worker = new HashWorker()
  t.after(() => worker.close())
  const short = worker.readAndHash(join(dir, 'f0'), 1200)
  await assert.rejects(short.bytes, (err: unknown) => err instanceof ShortReadError && err.bytesRead === 1000 && /ended after 1000 of 1200 bytes/.test(err.message))
  await assert.rejects(short.digest, ShortReadError)
  assert.equal(await worker.hashFile(join(dir, 'f1')), sha(data[1]))
})

test('HashWorker rejects a missing file, and every job after close', async (t) => {
  const { dir } = await files(t, [10])
  const worker = new HashWorker()
  const missing = worker.readAndHash(join(dir, 'nope'), 10)
  await assert.rejects(missing.bytes, /ENOENT/)
  await assert.rejects(missing.digest, /ENOENT/)
  await assert.rejects(worker.hashFile(join(dir, 'nope')), /ENOENT/)
  await worker.close()
  await assert.rejects(worker.hashFile(join(dir, 'f0')), /closed/)
  const after = worker.readAndHash(join(dir, 'f0'), 10)
  await assert.rejects(after.bytes, /closed/)
  await assert.rejects(after.digest, /closed/)
})
