import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { buildHnswIndex } from '../../src/model-loader/hnsw-index.js'
import { HNSW_HEADER_BYTES, HnswFileError, level0End, validateHnswBytes, validateHnswFile, type HnswHeader } from '../../src/model-loader/hnsw-file.js'
import { tempDir } from '../helpers/bundle-fixture.js'
import { makeVectors } from '../search/helpers.js'

const COUNT = 300
const DIMENSION = 6
const M = 4

/** A real index written by hnswlib-node, as the bytes of its file. */
async function indexBytes (dir: string, count = COUNT, dimension = DIMENSION): Promise<Uint8Array> {
  const { vectors } = makeVectors(count, dimension, 3, false)
  const built = buildHnswIndex({ vectors, count, dimension, bias: null }, { space: 'ip', M, efConstruction: 40, efSearch: 20, randomSeed: 7 })
  const path = join(dir, `index-${count}.hnsw`)
  await built.index.writeIndex(path)
  return new Uint8Array(await readFile(path))
}

const EXPECTED = { count: COUNT, M, dimension: DIMENSION }

function refused (bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => validateHnswBytes(bytes, EXPECTED), (err: unknown) => {
    assert.ok(err instanceof HnswFileError, `expected HnswFileError, got ${String(err)}`)
    assert.match(`${err.field}: ${err.message}`, pattern)
    return true
  })
}

/** Every level-0 link slot in use and every upper-level link slot in use, as byte offsets. */
function linkSlots (bytes: Uint8Array, h: HnswHeader): { level0: number[], upper: number[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  const level0: number[] = []
  for (let e = 0; e < h.count; e++) {
    const base = HNSW_HEADER_BYTES + e * h.sizePerElement
    const n = v.getUint32(base, true) & 0xffff
    for (let j = 0; j < n; j++) level0.push(base + 4 + 4 * j)
  }
  const upper: number[] = []
  let pos = level0End(h)
  const listBytes = 4 + 4 * h.maxM
  for (let e = 0; e < h.count; e++) {
    const size = v.getUint32(pos, true)
    pos += 4
    for (let at = pos; at < pos + size; at += listBytes) {
      const n = v.getUint32(at, true) & 0xffff
      for (let j = 0; j < n; j++) upper.push(at + 4 + 4 * j)
    }
    pos += size
  }
  return { level0, upper }
}

function withU32 (bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = Uint8Array.from(bytes)
  new DataView(out.buffer).setUint32(at, value >>> 0, true)
  return out
}

test('validateHnswBytes accepts the files hnswlib-node writes and reports their layout', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const bytes = await indexBytes(dir)
  const h = validateHnswBytes(bytes, EXPECTED)
  assert.equal(h.count, COUNT)
  assert.equal(h.dimension, DIMENSION)
  assert.equal(h.maxM0, 2 * M)
  assert.equal(h.sizePerElement, 4 + 4 * 2 * M + 4 * DIMENSION + 8)
  assert.ok(h.maxLevel >= 1, 'a 300-item index with M=4 has upper levels')
  // The streaming reader agrees with the in-memory one.
  const path = join(dir, 'index-300.hnsw')
  assert.deepEqual((await validateHnswFile(path, EXPECTED)).header, h)
})

test('validateHnswBytes refuses header fields that disagree with the model or with each other', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const bytes = await indexBytes(dir)
  assert.throws(() => validateHnswBytes(bytes, { ...EXPECTED, count: COUNT + 1 }), /holds 300 items, the manifest counts 301/)
  assert.throws(() => validateHnswBytes(bytes, { ...EXPECTED, M: 8 }), /built with M=4, the manifest says 8/)
  assert.throws(() => validateHnswBytes(bytes, { ...EXPECTED, dimension: 7 }), /6-dimensional vectors, the model needs 7/)
  refused(withU32(bytes, 8, 1_000_000), /maxElements/) // hnswlib would allocate a slot per element named here
  refused(withU32(bytes, 12, 1), /larger than 2\^32/)
  refused(withU32(bytes, 48, 200), /maxLevel/)
  refused(withU32(bytes, 52, COUNT), /enterPoint/)
  refused(withU32(bytes, 64, 2 * M + 1), /maxM0/)
  refused(withU32(bytes, 40, 4 + 8 * M + 4), /offsetData/)
  refused(withU32(bytes, 24, 4 + 8 * M + 4 * DIMENSION + 12), /sizePerElement/)
  refused(bytes.subarray(0, 50), /shorter than hnswlib's 96-byte header/)
})

test('validateHnswBytes refuses neighbour ids past the count, levels that disagree, deleted marks, duplicate labels, NaN and truncation', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const bytes = await indexBytes(dir)
  const h = validateHnswBytes(bytes, EXPECTED)
  const slots = linkSlots(bytes, h)
  refused(withU32(bytes, slots.level0[5], COUNT), /links to 300, past the last element 299/)
  refused(withU32(bytes, slots.upper[0], COUNT + 7), /links to 307/)
  // An upper-level link to an element that has no list at that level: searchKnn would read its list.
  const v = new DataView(bytes.buffer, bytes.byteOffset)
  const ground = Array.from({ length: COUNT }, (_, e) => e).find((e) => v.getUint32(level0End(h) + 4 * e, true) === 0 && e < h.count)
  assert.ok(ground !== undefined)
  refused(withU32(bytes, slots.upper[0], ground), /whose level is 0/)
  const first = HNSW_HEADER_BYTES
  refused(withU32(bytes, first, (v.getUint32(first, true) & 0xffff) | 0x10000), /marked deleted/)
  refused(withU32(bytes, first, 2 * M + 1), /more than maxM0/)
  const label0 = HNSW_HEADER_BYTES + h.labelOffset
  refused(withU32(bytes, label0, 1), /label 1 appears twice/)
  const nan = Uint8Array.from(bytes)
  new DataView(nan.buffer).setFloat32(HNSW_HEADER_BYTES + h.sizePerElement * 3 + h.offsetData, Number.NaN, true)
  refused(nan, /non-finite/)
  refused(bytes.subarray(0, bytes.length - 1), /link lists|bytes follow|ends in/)
  refused(Uint8Array.from([...bytes, 0, 0, 0, 0]), /bytes follow the last link list/)
  refused(bytes.subarray(0, level0End(h) - 3), /need at least/)
})

const HNSWLIB = createRequire(import.meta.url).resolve('hnswlib-node')

/**
 * Loads each file with hnswlib-node and searches it, in a child process killed if it does not
 * finish: a structurally broken index could spin in native code, where no timer of ours fires.
 */
function searchInChild (paths: readonly string[]): { status: number | null, signal: string | null, out: string } {
  const script = `
    const { HierarchicalNSW } = require(${JSON.stringify(HNSWLIB)})
    ;(async () => {
      const paths = JSON.parse(process.argv[1])
      for (const p of paths) {
        const index = new HierarchicalNSW('ip', ${DIMENSION})
        await index.readIndex(p)
        index.setEf(40)
        for (let q = 0; q < 5; q++) {
          const r = index.searchKnn(Array.from({ length: ${DIMENSION} }, (_, j) => Math.sin(q * 7 + j)), 10)
          if (r.neighbors.some((n) => !(n >= 0 && n < ${COUNT}))) throw new Error('label out of range in ' + p)
        }
      }
      process.stdout.write('searched ' + paths.length)
    })().catch((err) => { process.stderr.write(String(err)); process.exit(3) })
  `
  const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(paths)], { encoding: 'utf8', timeout: 120_000 })
  return { status: r.status, signal: r.signal, out: r.stdout + r.stderr }
}

test('fuzz: truncations, bit flips and random bytes are refused with HnswFileError or are structurally valid (hnswlib loads and searches them)', { timeout: 300_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const original = await indexBytes(dir)
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.integer({ min: 0, max: original.length - 1 }) }),
    fc.record({ kind: fc.constant('flip' as const), bits: fc.array(fc.integer({ min: 0, max: original.length * 8 - 1 }), { minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('bytes' as const), at: fc.integer({ min: 0, max: original.length - 1 }), data: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    // Most of the file is vector data; aim a share of the runs at the header and the link lists.
    fc.record({ kind: fc.constant('flip' as const), bits: fc.array(fc.integer({ min: 0, max: HNSW_HEADER_BYTES * 8 - 1 }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('bytes' as const), at: fc.integer({ min: level0End(validateHnswBytes(original, EXPECTED)), max: original.length - 1 }), data: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  )
  type Mutation = { kind: 'truncate', at: number } | { kind: 'flip', bits: number[] } | { kind: 'bytes', at: number, data: Uint8Array }
  const mutate = (m: Mutation): Uint8Array => {
    if (m.kind === 'truncate') return original.slice(0, m.at)
    const out = Uint8Array.from(original)
    if (m.kind === 'flip') for (const b of m.bits) out[b >> 3] ^= 1 << (b & 7)
    else out.set(m.data.subarray(0, out.length - m.at), m.at)
    return out
  }
  const accepted: Uint8Array[] = []
  let refusedCount = 0
  fc.assert(fc.property(mutation, (m) => {
    const bytes = mutate(m)
    try {
      validateHnswBytes(bytes, EXPECTED)
    } catch (err) {
      assert.ok(err instanceof HnswFileError, `only HnswFileError may escape, got ${String(err)}`)
      refusedCount++
      return
    }
    accepted.push(bytes)
  }), { numRuns: 400, seed: 23 })
  const paths = await Promise.all(accepted.map(async (bytes, i) => {
    const path = join(dir, `accepted-${i}.hnsw`)
    await writeFile(path, bytes)
    return path
  }))
  assert.ok(refusedCount > 100, `refused ${refusedCount}: the mutations reach the structure`)
  assert.ok(accepted.length > 20, `accepted ${accepted.length}: flips in vector data keep a file valid`)
  const r = searchInChild(paths)
  assert.equal(r.signal, null, `hnswlib hung or crashed on an accepted file: ${r.out}`)
  assert.equal(r.status, 0, r.out)
  assert.equal(r.out, `searched ${paths.length}`)
})

test('fuzz: any used link slot set to an id past the count, or to an element below the level, is refused', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const original = await indexBytes(dir)
  const h = validateHnswBytes(original, EXPECTED)
  const slots = linkSlots(original, h)
  const all = [...slots.level0, ...slots.upper]
  fc.assert(fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.integer({ min: COUNT, max: 0xffffffff }), (i, id) => {
    assert.throws(() => validateHnswBytes(withU32(original, all[i], id), EXPECTED), HnswFileError)
  }), { numRuns: 300, seed: 5 })
})
