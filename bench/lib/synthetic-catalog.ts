/**
 * Deterministic synthetic catalogs for benchmarks and tests: item vectors from a Gaussian mixture
 * (clustered, as trained embeddings are, unlike uniform data where every index degenerates) and
 * binary codes derived from them by the signs of sparse random projections (Li, Hastie and Church,
 * "Very sparse random projections", 2006): 4 signed coordinates per bit keep the angular structure
 * while 1M x 64 x 64 codes take well under a second (16 taps took 2.4 s here, a dense projection more).
 */

export interface SyntheticCatalogOptions {
  readonly items: number
  readonly dimension: number
  readonly codeBits: number
  /** Mixture components; default about sqrt(items). */
  readonly clusters?: number
  readonly seed?: number
  /** Queries drawn from the same mixture (users near the item clusters). Default 1000. */
  readonly queries?: number
  /** Within-cluster spread relative to the centre norm; default 0.35 (about 7 of 64 code bits differ from the centre's). */
  readonly noise?: number
  /** Codes uniform at random instead of derived from the vectors: the worst case for Hamming indexes. */
  readonly uniformCodes?: boolean
  /** Further draws from the mixture after the queries (synthetic users for learned structures). Default 0. */
  readonly users?: number
}

export interface SyntheticCatalog {
  readonly itemCount: number
  readonly dimension: number
  readonly codeBits: number
  readonly codeWords: number
  readonly itemVectors: Float32Array
  readonly itemNorms: Float32Array
  /** codeWords little-endian words per item. */
  readonly itemCodes: Uint32Array
  /** The same codes in the bundle's packed layout (bit j in byte j >> 3 at position j & 7). */
  readonly codeBytes: Uint8Array
  readonly queryCount: number
  readonly queryVectors: Float32Array
  readonly queryCodes: Uint32Array
  /** The mixture component of each item, the components' centres (clusters x dimension) and of each user. */
  readonly clusterCount: number
  readonly itemClusters: Int32Array
  readonly centres: Float32Array
  readonly userCount: number
  readonly userVectors: Float32Array
  readonly userClusters: Int32Array
}

/** sfc32 (Doty-Humphrey's small fast counting generator): 32-bit state words, fast in JS int math. */
export function createRng (seed: number): { u32: () => number, float: () => number, normal: () => number } {
  let a = 0x9e3779b9 ^ seed
  let b = 0x243f6a88
  let c = 0xb7e15162 ^ Math.imul(seed, 0x85ebca6b)
  let d = 1
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 16; i++) u32()
  const float = (): number => (u32() + 0.5) / 4294967296
  // Inverse-CDF table lookup: one u32 per normal. Box-Muller (log, sqrt, cos) made 64M normals
  // take 2.9 s; the table, truncated at +-3.9 sd, is plenty for synthetic data.
  const normal = (): number => {
    const x = u32()
    const i = x >>> (32 - NORMAL_TABLE_BITS)
    const f = (x & NORMAL_FRACTION_MASK) / (NORMAL_FRACTION_MASK + 1)
    return NORMAL_TABLE[i] + f * (NORMAL_TABLE[i + 1] - NORMAL_TABLE[i])
  }
  return { u32, float, normal }
}

const NORMAL_TABLE_BITS = 14
const NORMAL_FRACTION_MASK = (1 << (32 - NORMAL_TABLE_BITS)) - 1
const NORMAL_TABLE = buildNormalTable(1 << NORMAL_TABLE_BITS)

/** Quantiles of N(0, 1) at (i + 0.5) / n, i = 0..n (Acklam's rational approximation, |error| < 1.2e-9). */
function buildNormalTable (n: number): Float64Array {
  const a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
  const b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
  const c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
  const d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
  const quantile = (p: number): number => {
    if (p < 0.02425) {
      const q = Math.sqrt(-2 * Math.log(p))
      return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    if (p > 1 - 0.02425) return -quantile(1 - p)
    const q = p - 0.5
    const r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  }
  const table = new Float64Array(n + 1)
  for (let i = 0; i <= n; i++) table[i] = quantile((Math.min(i, n - 1) + 0.5) / n)
  return table
}

const TAPS_PER_BIT = 4

export function generateSyntheticCatalog (options: SyntheticCatalogOptions): SyntheticCatalog {
  const { items, dimension, codeBits } = options
  if (codeBits % 32 !== 0) throw new Error('codeBits must be a multiple of 32')
  const seed = options.seed ?? 1
  const clusterCount = Math.max(1, options.clusters ?? Math.round(Math.sqrt(Math.max(1, items))))
  const queryCount = options.queries ?? 1000
  const noise = options.noise ?? 0.35
  const codeWords = codeBits / 32
  const rng = createRng(seed)

  // Cluster scales in [0.5, 1.5] make item norms differ, so inner-product order is not cosine order.
  const centres = new Float32Array(clusterCount * dimension)
  const scales = new Float32Array(clusterCount)
  for (let c = 0; c < clusterCount; c++) {
    scales[c] = 0.5 + rng.float()
    for (let j = 0; j < dimension; j++) centres[c * dimension + j] = rng.normal() * scales[c] / Math.sqrt(dimension)
  }

  const taps = Math.min(TAPS_PER_BIT, dimension)
  const tapIndex = new Int32Array(codeBits * taps)
  const tapSign = new Float32Array(codeBits * taps)
  for (let bit = 0; bit < codeBits; bit++) {
    for (let t = 0; t < taps; t++) {
      tapIndex[bit * taps + t] = rng.u32() % dimension
      tapSign[bit * taps + t] = (rng.u32() & 1) === 1 ? 1 : -1
    }
  }

  const fill = (count: number, vectors: Float32Array, codes: Uint32Array, norms: Float32Array | null, clusters: Int32Array | null = null): void => {
    for (let i = 0; i < count; i++) {
      const c = rng.u32() % clusterCount
      if (clusters) clusters[i] = c
      const sd = noise * scales[c] / Math.sqrt(dimension)
      const base = i * dimension
      let s = 0
      for (let j = 0; j < dimension; j++) {
        const x = centres[c * dimension + j] + sd * rng.normal()
        vectors[base + j] = x
        s += x * x
      }
      if (norms) norms[i] = Math.sqrt(s)
      const cb = i * codeWords
      if (options.uniformCodes === true) {
        for (let w = 0; w < codeWords; w++) codes[cb + w] = rng.u32()
        continue
      }
      for (let bit = 0; bit < codeBits; bit++) {
        let p = 0
        const tb = bit * taps
        for (let t = 0; t < taps; t++) p += tapSign[tb + t] * vectors[base + tapIndex[tb + t]]
        if (p > 0) codes[cb + (bit >>> 5)] |= 1 << (bit & 31)
      }
    }
  }

  const itemVectors = new Float32Array(items * dimension)
  const itemNorms = new Float32Array(items)
  const itemCodes = new Uint32Array(items * codeWords)
  const itemClusters = new Int32Array(items)
  fill(items, itemVectors, itemCodes, itemNorms, itemClusters)
  const queryVectors = new Float32Array(queryCount * dimension)
  const queryCodes = new Uint32Array(queryCount * codeWords)
  fill(queryCount, queryVectors, queryCodes, null)
  const userCount = options.users ?? 0
  const userVectors = new Float32Array(userCount * dimension)
  const userClusters = new Int32Array(userCount)
  fill(userCount, userVectors, new Uint32Array(userCount * codeWords), null, userClusters)

  return {
    itemCount: items,
    dimension,
    codeBits,
    codeWords,
    itemVectors,
    itemNorms,
    itemCodes,
    // Little-endian words are the bundle's byte layout already (word w bit k = code bit 32w + k).
    codeBytes: new Uint8Array(itemCodes.buffer, itemCodes.byteOffset, itemCodes.byteLength),
    queryCount,
    queryVectors,
    queryCodes,
    clusterCount,
    itemClusters,
    centres,
    userCount,
    userVectors,
    userClusters,
  }
}
