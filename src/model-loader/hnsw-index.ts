/**
 * hnswlib-node HNSW over item vectors for maximum inner product search.
 *
 * Two ways to make HNSW answer MIPS:
 * - 'ip': hnswlib's inner-product space (distance 1 - u.v) directly;
 * - 'l2-mips': the reduction of Bachrach et al. (2014): item x -> [x, sqrt(M^2 - |x|^2)], query
 *   q -> [q, 0], so L2 order equals inner-product order.
 * Item biases fold in as one more coordinate: item [x, b], query [q, 1].
 */
import { open } from 'node:fs/promises'
import hnswlib from 'hnswlib-node'
import type { HnswConfig } from '../bundle-format/manifest.js'

const { HierarchicalNSW } = hnswlib

export interface HnswBuildInput {
  readonly vectors: Float32Array
  readonly count: number
  readonly dimension: number
  readonly bias: Float32Array | null
}

export function hnswIndexDimension (dimension: number, hasBias: boolean, space: HnswConfig['space']): number {
  return dimension + (hasBias ? 1 : 0) + (space === 'l2-mips' ? 1 : 0)
}

/** Largest augmented item norm, the M of the l2-mips reduction (0 for 'ip'). */
export function maxAugmentedNorm (input: HnswBuildInput): number {
  let max = 0
  const { vectors, count, dimension, bias } = input
  for (let i = 0; i < count; i++) {
    let s = bias ? bias[i] * bias[i] : 0
    for (let j = 0; j < dimension; j++) { const x = vectors[i * dimension + j]; s += x * x }
    if (s > max) max = s
  }
  return Math.sqrt(max)
}

/** Writes item `row` as the index sees it into `out` (a reusable plain array: hnswlib-node takes no typed arrays). */
export function augmentItem (input: HnswBuildInput, row: number, space: HnswConfig['space'], maxNorm: number, out: number[]): void {
  const { vectors, dimension, bias } = input
  let s = 0
  let j = 0
  for (; j < dimension; j++) { const x = vectors[row * dimension + j]; out[j] = x; s += x * x }
  if (bias) { out[j++] = bias[row]; s += bias[row] * bias[row] }
  if (space === 'l2-mips') out[j] = Math.sqrt(Math.max(0, maxNorm * maxNorm - s))
}

/** Writes a query as the index sees it into `out`. */
export function augmentQuery (query: Float32Array, dimension: number, hasBias: boolean, space: HnswConfig['space'], out: number[]): void {
  let j = 0
  for (; j < dimension; j++) out[j] = query[j]
  if (hasBias) out[j++] = 1
  if (space === 'l2-mips') out[j] = 0
}

export function buildHnswIndex (input: HnswBuildInput, config: HnswConfig): { index: InstanceType<typeof HierarchicalNSW>, maxNorm: number, indexDimension: number } {
  const indexDimension = hnswIndexDimension(input.dimension, input.bias !== null, config.space)
  const index = new HierarchicalNSW(config.space === 'ip' ? 'ip' : 'l2', indexDimension)
  index.initIndex({ maxElements: Math.max(1, input.count), m: config.M, efConstruction: config.efConstruction, randomSeed: config.randomSeed })
  const maxNorm = config.space === 'l2-mips' ? maxAugmentedNorm(input) : 0
  const point = new Array<number>(indexDimension).fill(0)
  for (let i = 0; i < input.count; i++) {
    augmentItem(input, i, config.space, maxNorm, point)
    index.addPoint(point, i)
  }
  index.setEf(config.efSearch)
  return { index, maxNorm, indexDimension }
}

export interface HnswFileHeader {
  readonly maxElements: number
  readonly count: number
  readonly dimension: number
  readonly M: number
  readonly maxM0: number
}

/**
 * Reads the fixed header hnswlib writes (hnswalg.h, saveIndex): size_t offsetLevel0, max_elements,
 * cur_element_count, size_data_per_element, label_offset, offsetData; int maxlevel; uint32
 * enterpoint; size_t maxM, maxM0, M; double mult; size_t ef_construction. The vector width is
 * (label_offset - offsetData) / 4 for float spaces. We check it before handing the file to
 * hnswlib, which trusts whatever dimension it is constructed with.
 */
export async function readHnswHeader (path: string): Promise<HnswFileHeader> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(96)
    const { bytesRead } = await fh.read(buf, 0, 96, 0)
    if (bytesRead < 96) throw new Error(`HNSW file is ${bytesRead} bytes, shorter than its 96-byte header`)
    const u64 = (off: number): number => Number(buf.readBigUInt64LE(off))
    const offsetLevel0 = u64(0)
    const maxElements = u64(8)
    const count = u64(16)
    const sizePerElement = u64(24)
    const labelOffset = u64(32)
    const offsetData = u64(40)
    const maxM0 = u64(64)
    const M = u64(72)
    const dataBytes = labelOffset - offsetData
    if (offsetLevel0 !== 0 || dataBytes <= 0 || dataBytes % 4 !== 0 || sizePerElement !== labelOffset + 8 || offsetData !== maxM0 * 4 + 4) {
      throw new Error('not an hnswlib index file (inconsistent header)')
    }
    return { maxElements, count, dimension: dataBytes / 4, M, maxM0 }
  } finally {
    await fh.close()
  }
}

export async function readHnswIndex (path: string, space: HnswConfig['space'], indexDimension: number, efSearch: number): Promise<InstanceType<typeof HierarchicalNSW>> {
  const index = new HierarchicalNSW(space === 'ip' ? 'ip' : 'l2', indexDimension)
  await index.readIndex(path)
  index.setEf(efSearch)
  return index
}
