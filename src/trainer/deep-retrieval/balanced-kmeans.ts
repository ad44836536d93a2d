/**
 * The starting item-to-path mapping: a balanced hierarchical k-means of the item vectors. The
 * catalog is split into K clusters of equal size, each of those into K, and so on for D levels, so
 * an item's first path is the chain of its clusters and every prefix holds about N / K^d items.
 * The paper starts from random paths (Gao et al., section 4); starting from the item vectors gives
 * the first E-step a structure in which users' items already share prefixes.
 *
 * Each split runs Lloyd's iterations on a seeded sample of the group, then assigns every member with
 * a capacity of ceil(m / K) per cluster: members with the largest gap between their best and
 * second-best centroid choose first, each taking its nearest cluster with room. An item's further
 * J - 1 paths are its parent group's next-nearest last-layer clusters.
 */
import { dotAt } from '../../search/mips/brute-force.js'
import { createRng } from '../rng.js'

export interface BalancedTreeOptions {
  readonly depth: number
  readonly width: number
  readonly pathsPerItem: number
  readonly seed: number
  /** Lloyd iterations per split (on the sample). */
  readonly iterations?: number
  /** Sample size per split, per cluster: at most this many members times K train the centroids. */
  readonly samplePerCluster?: number
}

const DEFAULT_ITERATIONS = 6
const DEFAULT_SAMPLE_PER_CLUSTER = 48

/**
 * Path keys (c_1 K^(D-1) + ... + c_D), count x J, row-major: item i's path j at [i * J + j].
 * `vectors` is count x dimension.
 */
export function balancedHierarchicalPaths (vectors: Float32Array, count: number, dimension: number, opts: BalancedTreeOptions): Int32Array {
  const { depth, width: K, pathsPerItem: J } = opts
  if (J > K) throw new RangeError(`pathsPerItem ${J} exceeds width ${K}`)
  const rng = createRng(opts.seed ^ 0x5bd1e995)
  const keys = new Int32Array(count * J)
  const prefix = new Float64Array(count) // each item's prefix key so far
  let groups: Int32Array[] = [Int32Array.from({ length: count }, (_, i) => i)]
  const scratch = createSplitScratch(K, dimension)
  for (let d = 0; d < depth; d++) {
    const last = d === depth - 1
    const next: Int32Array[] = []
    for (const members of groups) {
      if (members.length === 0) continue
      const split = splitBalanced(vectors, dimension, members, K, rng, opts.iterations ?? DEFAULT_ITERATIONS, (opts.samplePerCluster ?? DEFAULT_SAMPLE_PER_CLUSTER) * K, scratch, last ? J : 1)
      const children: number[][] = Array.from({ length: K }, () => [])
      for (let m = 0; m < members.length; m++) {
        const item = members[m]
        const c = split.assignment[m]
        children[c].push(item)
        if (last) {
          const base = prefix[item] * K
          keys[item * J] = base + c
          for (let j = 1; j < J; j++) keys[item * J + j] = base + split.alternatives[m * (J - 1) + j - 1]
        } else {
          prefix[item] = prefix[item] * K + c
        }
      }
      if (!last) for (const child of children) next.push(Int32Array.from(child))
    }
    groups = next
  }
  return keys
}

interface SplitScratch {
  centroids: Float32Array
  sums: Float64Array
  sizes: Int32Array
  norms: Float64Array
}

function createSplitScratch (K: number, dimension: number): SplitScratch {
  return { centroids: new Float32Array(K * dimension), sums: new Float64Array(K * dimension), sizes: new Int32Array(K), norms: new Float64Array(K) }
}

interface Split {
  /** Cluster of each member, 0..K-1. */
  readonly assignment: Int32Array
  /** members x (alternativesPerMember - 1): the next-nearest clusters other than the assigned one. */
  readonly alternatives: Int32Array
}

/** Splits `members` into K balanced clusters; with paths > 1 also each member's next paths - 1 nearest other clusters. */
function splitBalanced (vectors: Float32Array, dim: number, members: Int32Array, K: number, rng: ReturnType<typeof createRng>, iterations: number, sampleCap: number, s: SplitScratch, paths: number): Split {
  const m = members.length
  // Seeded sample (a partial Fisher-Yates over a copy) for the centroid iterations.
  const order = Int32Array.from(members)
  const sampleSize = Math.min(m, sampleCap)
  for (let i = 0; i < sampleSize; i++) {
    const r = i + Math.floor(rng.next() * (m - i))
    const t = order[i]; order[i] = order[r]; order[r] = t
  }
  const sample = order.subarray(0, sampleSize)
  const { centroids, sums, sizes } = s
  // Initial centroids: K distinct sample members (or repeats when the group is smaller than K).
  for (let c = 0; c < K; c++) centroids.set(vectors.subarray(sample[c % sampleSize] * dim, (sample[c % sampleSize] + 1) * dim), c * dim)
  for (let it = 0; it < iterations && sampleSize > K; it++) {
    const a = assignBalanced(vectors, dim, sample, K, s, 1).assignment
    sums.fill(0)
    sizes.fill(0)
    for (let i = 0; i < sampleSize; i++) {
      const c = a[i]
      sizes[c]++
      const vb = sample[i] * dim
      const cb = c * dim
      for (let k = 0; k < dim; k++) sums[cb + k] += vectors[vb + k]
    }
    for (let c = 0; c < K; c++) {
      if (sizes[c] === 0) continue
      for (let k = 0; k < dim; k++) centroids[c * dim + k] = sums[c * dim + k] / sizes[c]
    }
  }
  return assignBalanced(vectors, dim, members, K, s, paths)
}

/** Clusters remembered per member, nearest first: m x K distances would take 400 MB at 1M x 100. */
const PREFERENCES = 8

/**
 * Capacity-constrained assignment to the current centroids: members by decreasing regret (second
 * best minus best distance) take their nearest cluster with room; capacity ceil(m / K). Each member
 * remembers its PREFERENCES nearest clusters; one whose remembered clusters are all full recomputes.
 */
function assignBalanced (vectors: Float32Array, dim: number, members: Int32Array, K: number, s: SplitScratch, paths: number): Split {
  const m = members.length
  const { centroids, norms } = s
  for (let c = 0; c < K; c++) {
    let q = 0
    for (let k = 0; k < dim; k++) q += centroids[c * dim + k] * centroids[c * dim + k]
    norms[c] = q
  }
  const T = Math.min(K, Math.max(PREFERENCES, paths))
  const prefC = new Int32Array(m * T)
  const prefD = new Float32Array(m * T)
  const regret = new Float64Array(m)
  const row = new Float64Array(K)
  for (let i = 0; i < m; i++) {
    distancesTo(vectors, members[i] * dim, dim, centroids, norms, K, row)
    // Insertion into the member's sorted T nearest.
    let n = 0
    const base = i * T
    for (let c = 0; c < K; c++) {
      const dd = row[c]
      if (n === T && dd >= prefD[base + T - 1]) continue
      let at = n < T ? n++ : T - 1
      while (at > 0 && prefD[base + at - 1] > dd) {
        prefD[base + at] = prefD[base + at - 1]
        prefC[base + at] = prefC[base + at - 1]
        at--
      }
      prefD[base + at] = dd
      prefC[base + at] = c
    }
    regret[i] = T > 1 ? prefD[base + 1] - prefD[base] : 0
  }
  const order = Array.from({ length: m }, (_, i) => i)
  order.sort((a, b) => regret[b] - regret[a] || a - b)
  const capacity = Math.ceil(m / K)
  const load = new Int32Array(K)
  const assignment = new Int32Array(m)
  for (const i of order) {
    let best = -1
    for (let t = 0; t < T; t++) {
      const c = prefC[i * T + t]
      if (load[c] < capacity) { best = c; break }
    }
    if (best < 0) {
      distancesTo(vectors, members[i] * dim, dim, centroids, norms, K, row)
      let bestD = Infinity
      for (let c = 0; c < K; c++) if (load[c] < capacity && row[c] < bestD) { bestD = row[c]; best = c }
    }
    assignment[i] = best
    load[best]++
  }
  // The next-nearest clusters other than the assigned one, from the remembered preferences.
  const extra = paths - 1
  const alternatives = new Int32Array(m * Math.max(0, extra))
  if (extra > 0) {
    for (let i = 0; i < m; i++) {
      let j = 0
      for (let t = 0; t < T && j < extra; t++) {
        const c = prefC[i * T + t]
        if (c !== assignment[i]) alternatives[i * extra + j++] = c
      }
    }
  }
  return { assignment, alternatives }
}

/** |x - c|^2 - |x|^2 = |c|^2 - 2 x.c for every centroid: the member's own norm does not change its order. */
function distancesTo (vectors: Float32Array, vb: number, dim: number, centroids: Float32Array, norms: Float64Array, K: number, out: Float64Array): void {
  const member = vectors.subarray(vb, vb + dim)
  for (let c = 0; c < K; c++) out[c] = norms[c] - 2 * dotAt(centroids, c * dim, member, dim)
}
