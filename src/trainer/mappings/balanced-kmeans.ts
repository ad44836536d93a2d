/**
 * Spherical k-means with a cluster-size bound, over unit vectors. Each iteration scores every point
 * against every centroid (keeping its `candidates` best), then assigns greedily under the bound:
 * points with the largest gap between their best and second-best centroid choose first, each taking
 * its best candidate with room (a full scan when all candidates are full), as in the Deep Retrieval
 * starting tree (deep-retrieval/balanced-kmeans.ts) but flat and with a capacity that may exceed
 * n / k. Centroids are the normalised means of their members.
 */
import { createRng } from '../rng.js'

export interface BoundedKMeansOptions {
  readonly clusters: number
  /** Most points per cluster; clusters x capacity must cover the points. */
  readonly capacity: number
  readonly iterations: number
  readonly seed: number
  /** Best centroids remembered per point for the bounded assignment. */
  readonly candidates?: number
}

const DEFAULT_CANDIDATES = 4

/** Cluster of each of the `count` unit vectors (count x dimension). */
export function boundedSphericalKMeans (vectors: Float32Array, count: number, dimension: number, opts: BoundedKMeansOptions): Int32Array {
  const k = opts.clusters
  const d = dimension
  if (k * opts.capacity < count) throw new RangeError(`${k} clusters of at most ${opts.capacity} cannot hold ${count} points`)
  const assignment = new Int32Array(count)
  if (count <= k) { for (let i = 0; i < count; i++) assignment[i] = i; return assignment }
  const rng = createRng(opts.seed ^ 0x3c6ef372)
  const centroids = new Float32Array(k * d)
  const pick = Int32Array.from({ length: count }, (_, i) => i)
  for (let c = 0; c < k; c++) {
    const j = c + Math.floor(rng.next() * (count - c))
    const t = pick[c]; pick[c] = pick[j]; pick[j] = t
    centroids.set(vectors.subarray(pick[c] * d, pick[c] * d + d), c * d)
  }
  const m = Math.min(k, opts.candidates ?? DEFAULT_CANDIDATES)
  const candIdx = new Int32Array(count * m)
  const candSim = new Float32Array(count * m)
  for (let it = 0; it < opts.iterations; it++) {
    nearestCentroids(vectors, count, d, centroids, k, m, candIdx, candSim)
    assignBounded(vectors, count, d, centroids, k, opts.capacity, m, candIdx, candSim, assignment)
    updateCentroids(vectors, count, d, centroids, k, assignment, rng)
  }
  return assignment
}

function nearestCentroids (x: Float32Array, count: number, d: number, centroids: Float32Array, k: number, m: number, candIdx: Int32Array, candSim: Float32Array): void {
  for (let i = 0; i < count; i++) {
    const base = i * m
    candSim.fill(-Infinity, base, base + m)
    const xb = i * d
    for (let c = 0; c < k; c++) {
      const cb = c * d
      let s = 0
      for (let j = 0; j < d; j++) s += x[xb + j] * centroids[cb + j]
      if (s <= candSim[base + m - 1]) continue
      let p = m - 1
      while (p > 0 && candSim[base + p - 1] < s) { candSim[base + p] = candSim[base + p - 1]; candIdx[base + p] = candIdx[base + p - 1]; p-- }
      candSim[base + p] = s
      candIdx[base + p] = c
    }
  }
}

function assignBounded (x: Float32Array, count: number, d: number, centroids: Float32Array, k: number, capacity: number, m: number, candIdx: Int32Array, candSim: Float32Array, out: Int32Array): void {
  const gap = (i: number): number => m > 1 ? candSim[i * m] - candSim[i * m + 1] : 0
  const order = Int32Array.from({ length: count }, (_, i) => i).sort((a, b) => (gap(b) - gap(a)) || (a - b))
  const size = new Int32Array(k)
  for (const i of order) {
    let chosen = -1
    for (let p = 0; p < m; p++) {
      const c = candIdx[i * m + p]
      if (size[c] < capacity) { chosen = c; break }
    }
    if (chosen === -1) {
      let best = -Infinity
      for (let c = 0; c < k; c++) {
        if (size[c] >= capacity) continue
        let s = 0
        for (let j = 0; j < d; j++) s += x[i * d + j] * centroids[c * d + j]
        if (s > best) { best = s; chosen = c }
      }
    }
    out[i] = chosen
    size[chosen]++
  }
}

function updateCentroids (x: Float32Array, count: number, d: number, centroids: Float32Array, k: number, assignment: Int32Array, rng: ReturnType<typeof createRng>): void {
  centroids.fill(0)
  const size = new Int32Array(k)
  for (let i = 0; i < count; i++) {
    const c = assignment[i]
    size[c]++
    for (let j = 0; j < d; j++) centroids[c * d + j] += x[i * d + j]
  }
  for (let c = 0; c < k; c++) {
    // An empty cluster restarts at a random point rather than staying unused.
    if (size[c] === 0) { const p = Math.floor(rng.next() * count); centroids.set(x.subarray(p * d, p * d + d), c * d); continue }
    let norm = 0
    for (let j = 0; j < d; j++) norm += centroids[c * d + j] ** 2
    const s = norm > 0 ? 1 / Math.sqrt(norm) : 0
    for (let j = 0; j < d; j++) centroids[c * d + j] *= s
  }
}

/** Scales each row of a count x d array to unit length in place (zero rows stay zero). */
export function normalizeRows (x: Float32Array, count: number, d: number): Float32Array {
  for (let i = 0; i < count; i++) {
    let n = 0
    for (let j = 0; j < d; j++) n += x[i * d + j] ** 2
    const s = n > 0 ? 1 / Math.sqrt(n) : 0
    for (let j = 0; j < d; j++) x[i * d + j] *= s
  }
  return x
}
