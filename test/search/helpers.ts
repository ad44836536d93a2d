import { createRng, generateSyntheticCatalog } from '../../bench/lib/synthetic-catalog.js'
import { hammingDistance } from '../../src/search/top-k.js'

export interface CodeSet {
  readonly codes: Uint32Array
  readonly codeWords: number
  readonly count: number
  readonly queries: Uint32Array
}

/** Uniform random codes, or clustered ones (signs of projections of a Gaussian mixture). */
export function makeCodes (kind: 'random' | 'clustered', codeBits: number, count: number, seed: number, queryCount = 4): CodeSet {
  const codeWords = codeBits / 32
  if (kind === 'clustered') {
    const c = generateSyntheticCatalog({ items: count, dimension: 16, codeBits, clusters: Math.max(1, Math.round(Math.sqrt(count) / 2)), seed, queries: queryCount })
    return { codes: c.itemCodes, codeWords, count, queries: c.queryCodes }
  }
  const rng = createRng(seed)
  const codes = new Uint32Array(count * codeWords)
  for (let i = 0; i < codes.length; i++) codes[i] = rng.u32()
  // Half the queries are item codes with a few bits flipped, so distances 0..3 and ties occur.
  const queries = new Uint32Array(queryCount * codeWords)
  for (let q = 0; q < queryCount; q++) {
    for (let w = 0; w < codeWords; w++) queries[q * codeWords + w] = rng.u32()
    if (q % 2 === 0 && count > 0) {
      const row = rng.u32() % count
      for (let w = 0; w < codeWords; w++) queries[q * codeWords + w] = codes[row * codeWords + w]
      const flips = rng.u32() % 4
      for (let f = 0; f < flips; f++) { const bit = rng.u32() % codeBits; queries[q * codeWords + (bit >>> 5)] ^= 1 << (bit & 31) }
    }
  }
  return { codes, codeWords, count, queries }
}

/** The obvious definition: every distance, sorted by (distance, row). */
export function naiveHammingTopK (set: CodeSet, query: Uint32Array, k: number, exclude?: Set<number>): { rows: number[], scores: number[] } {
  const all: [number, number][] = []
  for (let row = 0; row < set.count; row++) {
    if (exclude?.has(row)) continue
    all.push([hammingDistance(set.codes, row, set.codeWords, query), row])
  }
  all.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  const top = all.slice(0, k)
  return { rows: top.map((x) => x[1]), scores: top.map((x) => set.codeWords * 32 - 2 * x[0]) }
}

export function makeVectors (count: number, dimension: number, seed: number, withBias = false): { vectors: Float32Array, bias: Float32Array | null } {
  const c = generateSyntheticCatalog({ items: count, dimension, codeBits: 32, seed, queries: 0 })
  if (!withBias) return { vectors: c.itemVectors, bias: null }
  const rng = createRng(seed + 7)
  const bias = new Float32Array(count)
  for (let i = 0; i < count; i++) bias[i] = (rng.float() - 0.5) * 0.2
  return { vectors: c.itemVectors, bias }
}

/** Exact scores in float64 over float32 inputs, sorted by (score desc, row asc). */
export function naiveMipsTopK (vectors: Float32Array, bias: Float32Array | null, dimension: number, count: number, query: Float32Array, k: number, exclude?: Set<number>): number[] {
  const all: [number, number][] = []
  for (let row = 0; row < count; row++) {
    if (exclude?.has(row)) continue
    let s = 0
    for (let j = 0; j < dimension; j++) s += vectors[row * dimension + j] * query[j]
    all.push([s + (bias ? bias[row] : 0), row])
  }
  all.sort((a, b) => b[0] - a[0] || a[1] - b[1])
  return all.slice(0, k).map((x) => x[1])
}
