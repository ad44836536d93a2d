/**
 * Writes small, valid, random bundles for tests. Deterministic for a seed; every part of the
 * format can be switched on (shared rows, concat, F16, biases, popularity, projection, HNSW file).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { packCodes } from '../../src/bundle-format/codes.js'
import { createRng } from '../../src/trainer/rng.js'
import type { CodeBits, HnswConfig, Manifest, ServingConfig, TableConfig } from '../../src/bundle-format/manifest.js'
import { writeBundle, type BundleInput } from '../../src/model-loader/write-bundle.js'
import { randomStructure, type TestStructureOptions } from './deep-retrieval-fixture.js'

export interface TestBundleOptions {
  items?: number
  users?: number
  dimension?: number
  codeBits?: CodeBits
  /** Item rows with a dedicated row (default: all). */
  itemDedicated?: number
  itemShared?: number
  userShared?: number
  aggregation?: 'sum' | 'concat'
  embeddingDtype?: 'F32' | 'F16' | 'I8'
  bias?: boolean
  popularity?: boolean
  projection?: boolean
  /** Each user has seen items (u * 3 + j) mod items for j < 3. */
  seen?: boolean
  hnsw?: (HnswConfig & { prebuild?: boolean }) | null
  seed?: number
  version?: string
  titles?: boolean
  /** A random Deep Retrieval structure over the catalog (shape options; items and dimension are the bundle's). */
  deepRetrieval?: Omit<TestStructureOptions, 'items' | 'dimension'>
  /** The manifest's `serving` (absent: hybrid answers a request that names no method). */
  serving?: ServingConfig
}

/** The trainer's seeded PRNG (mulberry32), as a plain function. */
export function seededRandom (seed: number): () => number {
  return createRng(seed).next
}

function gaussianArray (n: number, rand: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12)
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
  }
  return out
}

function seenFixture (users: number, items: number): { indptr: Int32Array, items: Int32Array } {
  const indptr = new Int32Array(users + 1)
  const rows: number[] = []
  for (let u = 0; u < users; u++) {
    for (let j = 0; j < 3; j++) rows.push((u * 3 + j) % items)
    indptr[u + 1] = rows.length
  }
  return { indptr, items: Int32Array.from(rows) }
}

export function testBundleInput (o: TestBundleOptions = {}): BundleInput {
  const rand = seededRandom(o.seed ?? 1)
  const n = o.items ?? 50
  const users = o.users ?? 20
  const d = o.dimension ?? 8
  const bits = o.codeBits ?? 64
  const aggregation = o.aggregation ?? 'sum'
  const itemDedicated = o.itemDedicated ?? n
  const itemShared = o.itemShared ?? 0
  const userShared = o.userShared ?? 0
  const width = aggregation === 'concat' ? d / 2 : d
  const table = (dedicatedRows: number, sharedRows: number, seeds: [number, number]): TableConfig => ({
    dedicatedRows, sharedRows, aggregation, hash: { function: 'murmur3_x86_32', seeds },
  })
  return {
    model: { id: 'test-model', version: o.version ?? 'v1' },
    createdAt: '2026-11-22T00:00:00.000Z',
    dimension: d,
    codeBits: bits,
    embeddingDtype: o.embeddingDtype ?? 'F32',
    items: Array.from({ length: n }, (_, i) => (o.titles === false ? { id: `i${i}` } : { id: `i${i}`, title: `Item ${i}`, tags: [i % 2 ? 'odd' : 'even'] })),
    users: Array.from({ length: users }, (_, i) => `u${i}`),
    tables: { user: table(users, userShared, [11, 22]), item: table(itemDedicated, itemShared, [33, 44]) },
    tensors: {
      itemCodes: packCodes(gaussianArray(n * bits, rand), n, bits),
      userCodes: packCodes(gaussianArray(users * bits, rand), users, bits),
      itemEmbeddings: gaussianArray(itemDedicated * d, rand, 0.5),
      userEmbeddings: gaussianArray(users * d, rand, 0.5),
      ...(itemShared > 0 ? { itemSharedEmbeddings: gaussianArray(itemShared * width, rand, 0.5) } : {}),
      ...(userShared > 0 ? { userSharedEmbeddings: gaussianArray(userShared * width, rand, 0.5) } : {}),
      ...(o.bias ? { itemBias: gaussianArray(n, rand, 0.1) } : {}),
      ...(o.popularity ? { itemPopularity: Float32Array.from({ length: n }, () => Math.floor(rand() * 100)) } : {}),
      ...(o.projection ? { userCodeProjection: gaussianArray(d * bits, rand) } : {}),
      ...(o.seen ? { userSeen: seenFixture(users, n) } : {}),
    },
    ...(o.deepRetrieval ? { deepRetrieval: randomStructure({ ...o.deepRetrieval, items: n, dimension: d }) } : {}),
    ...(o.hnsw === null ? {} : { hnsw: o.hnsw ?? { space: 'ip', M: 8, efConstruction: 50, efSearch: 32, randomSeed: 100, prebuild: false } }),
    ...(o.serving ? { serving: o.serving } : {}),
    training: { fixture: true },
  }
}

export async function writeTestBundle (dir: string, o: TestBundleOptions = {}): Promise<Manifest> {
  return writeBundle(dir, testBundleInput(o))
}

/** A fresh temp directory and its cleanup, for `t.after`. */
export async function tempDir (prefix = 'hashrec-test-'): Promise<{ dir: string, cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}
