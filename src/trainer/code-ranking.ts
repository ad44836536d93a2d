/**
 * Evaluation-side ranking with binary codes: exhaustive Hamming ranking (ties to the lower item
 * index, as the service's engines break them) and the two-stage hybrid (Hamming top-N candidates
 * re-ranked by the exact inner product of the real-valued vectors).
 */
import { packCodes } from '../bundle-format/codes.js'
import type { Csr } from './csr.js'
import { evaluateRanked, type Metrics } from './evaluate.js'

/** Packed bundle codes (bit j in byte j >> 3 at position j & 7) as 32-bit words, 1 = +1. */
export function codeWords (packed: Uint8Array, rows: number, bits: number): Uint32Array {
  const words = bits >> 5
  const out = new Uint32Array(rows * words)
  const bytes = bits >> 3
  for (let r = 0; r < rows; r++) {
    for (let w = 0; w < words; w++) {
      const b = r * bytes + w * 4
      out[r * words + w] = (packed[b] | (packed[b + 1] << 8) | (packed[b + 2] << 16) | (packed[b + 3] << 24)) >>> 0
    }
  }
  return out
}

function popcount32 (x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  x = (x + (x >>> 4)) & 0x0f0f0f0f
  return Math.imul(x, 0x01010101) >>> 24
}

/** Sign of the real factors, bit j = sign of coordinate j (needs bits <= dimension): the baseline learned codes must beat. */
export function signCodesBaseline (vectors: Float32Array, rows: number, dimension: number, bits: number): Uint8Array {
  if (bits > dimension) throw new RangeError(`the sign() baseline needs bits <= dimension, got ${bits} > ${dimension}`)
  return packCodes(vectors, rows, bits, dimension)
}

// Scratch for hammingTopN (bits <= 128): no allocation per ranked user.
const HIST = new Int32Array(130)
const STARTS = new Int32Array(130)

/**
 * Items not in `exclude` ordered by Hamming distance to the user's code, ties to the lower item,
 * first `n` written to `out`. Counting sort over distances 0..bits: O(items + bits) per user.
 */
export function hammingTopN (userWords: Uint32Array, user: number, itemWords: Uint32Array, items: number, bits: number, exclude: Int32Array, exStart: number, exEnd: number, n: number, dist: Uint8Array, out: Int32Array): number {
  const words = bits >> 5
  const hist = HIST.subarray(0, bits + 2).fill(0)
  const ub = user * words
  let e = exStart
  for (let i = 0; i < items; i++) {
    if (e < exEnd && exclude[e] === i) { e++; dist[i] = 255; continue }
    let d = 0
    const ib = i * words
    for (let w = 0; w < words; w++) d += popcount32(userWords[ub + w] ^ itemWords[ib + w])
    dist[i] = d
    hist[d]++
  }
  // Largest distance t such that items strictly closer than t number fewer than n.
  let taken = 0
  let t = 0
  while (t <= bits && taken + hist[t] < n) { taken += hist[t]; t++ }
  let fromT = n - taken
  let count = 0
  // Emit closer buckets in distance order, then the lowest-index items at distance t.
  const starts = STARTS.subarray(0, bits + 2).fill(0)
  for (let d = 1; d <= Math.min(t, bits + 1); d++) starts[d] = starts[d - 1] + hist[d - 1]
  for (let i = 0; i < items; i++) {
    const d = dist[i]
    if (d < t) { out[starts[d]++] = i; count++ } else if (d === t && fromT > 0) { out[starts[t]++] = i; fromT--; count++ }
  }
  return count
}

export function evaluateHamming (train: Csr, test: Csr, k: number, userCodes: Uint8Array, itemCodes: Uint8Array, bits: number): Metrics {
  const uw = codeWords(userCodes, train.rows, bits)
  const iw = codeWords(itemCodes, train.cols, bits)
  const dist = new Uint8Array(train.cols)
  return evaluateRanked(train, test, k, (u, out) => hammingTopN(uw, u, iw, train.cols, bits, train.indices, train.indptr[u], train.indptr[u + 1], k, dist, out))
}

/** Hamming top-`candidates` re-ranked by u . v (ties to the lower item). */
export function evaluateTwoStage (train: Csr, test: Csr, k: number, userCodes: Uint8Array, itemCodes: Uint8Array, bits: number, userVectors: Float32Array, itemVectors: Float32Array, dimension: number, candidates = 200): Metrics {
  const uw = codeWords(userCodes, train.rows, bits)
  const iw = codeWords(itemCodes, train.cols, bits)
  const dist = new Uint8Array(train.cols)
  const cand = new Int32Array(candidates)
  const scores = new Float64Array(candidates)
  const order: number[] = []
  return evaluateRanked(train, test, k, (u, out) => {
    const n = hammingTopN(uw, u, iw, train.cols, bits, train.indices, train.indptr[u], train.indptr[u + 1], candidates, dist, cand)
    const ub = u * dimension
    order.length = 0
    for (let c = 0; c < n; c++) {
      const ib = cand[c] * dimension
      let s = 0
      for (let j = 0; j < dimension; j++) s += userVectors[ub + j] * itemVectors[ib + j]
      scores[c] = s
      order.push(c)
    }
    order.sort((a, b) => (scores[b] - scores[a]) || (cand[a] - cand[b]))
    const m = Math.min(k, n)
    for (let r = 0; r < m; r++) out[r] = cand[order[r]]
    return m
  })
}
