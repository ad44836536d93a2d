/**
 * Recall@10 / NDCG@10 on the trainer's split: ranking over all items the user did not interact with
 * in train, recall = hits / min(10, |test|), averaged over users with test items.
 */
import type { Csr } from '../../src/trainer/csr.js'

export interface Metrics { recall: number, ndcg: number, users: number }

/** Indices of the k highest scores (ties: lower index first), skipping `skip[i] === mark`. */
export function topK (scores: Float64Array, k: number, skip: Int32Array, mark: number, out: Int32Array): number {
  let n = 0
  for (let i = 0; i < scores.length; i++) {
    if (skip[i] === mark) continue
    const s = scores[i]!
    if (n === k && s <= scores[out[k - 1]!]!) continue
    let p = n < k ? n++ : k - 1
    while (p > 0 && scores[out[p - 1]!]! < s) { out[p] = out[p - 1]!; p-- }
    out[p] = i
  }
  return n
}

export type Scorer = (user: number, scores: Float64Array, skip: Int32Array, mark: number, out: Int32Array) => number

export function evaluate (train: Csr, test: Csr, ranker: Scorer, k = 10): Metrics {
  const skip = new Int32Array(train.cols).fill(-1)
  const scores = new Float64Array(train.cols)
  const top = new Int32Array(k)
  const isTest = new Int32Array(train.cols).fill(-1)
  let recall = 0; let ndcg = 0; let users = 0
  for (let u = 0; u < train.rows; u++) {
    const t0 = test.indptr[u]!; const t1 = test.indptr[u + 1]!
    if (t1 === t0) continue
    for (let p = train.indptr[u]!; p < train.indptr[u + 1]!; p++) skip[train.indices[p]!] = u
    for (let p = t0; p < t1; p++) isTest[test.indices[p]!] = u
    const n = ranker(u, scores, skip, u, top)
    let hits = 0; let dcg = 0; let idcg = 0
    for (let r = 0; r < n; r++) if (isTest[top[r]!] === u) { hits++; dcg += 1 / Math.log2(r + 2) }
    const ideal = Math.min(k, t1 - t0)
    for (let r = 0; r < ideal; r++) idcg += 1 / Math.log2(r + 2)
    recall += hits / ideal; ndcg += dcg / idcg; users++
  }
  return { recall: recall / users, ndcg: ndcg / users, users }
}

export function dotScorer (uv: Float32Array, iv: Float32Array, d: number): Scorer {
  return (u, scores, skip, mark, out) => {
    const o = u * d
    for (let i = 0; i < scores.length; i++) {
      const q = i * d
      let s = 0
      for (let a = 0; a < d; a++) s += uv[o + a]! * iv[q + a]!
      scores[i] = s
    }
    return topK(scores, out.length, skip, mark, out)
  }
}

function popcount (x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)
}

function words (codes: Uint8Array): Uint32Array {
  const c = new Uint8Array(codes)
  return new Uint32Array(c.buffer, 0, c.length >> 2)
}

/** bits - 2 * Hamming distance of the packed codes, i.e. the +-1 inner product. */
export function hammingScores (userCodes: Uint8Array, itemCodes: Uint8Array, bits: number): (u: number, scores: Float64Array) => void {
  const uw = words(userCodes); const iw = words(itemCodes); const w = bits >> 5
  return (u, scores) => {
    const o = u * w
    for (let i = 0; i < scores.length; i++) {
      let h = 0
      for (let j = 0; j < w; j++) h += popcount(uw[o + j]! ^ iw[i * w + j]!)
      scores[i] = bits - 2 * h
    }
  }
}

export function hammingScorer (userCodes: Uint8Array, itemCodes: Uint8Array, bits: number): Scorer {
  const score = hammingScores(userCodes, itemCodes, bits)
  return (u, scores, skip, mark, out) => { score(u, scores); return topK(scores, out.length, skip, mark, out) }
}

/** Hamming top-`candidates`, re-ranked by the real inner product. */
export function twoStageScorer (userCodes: Uint8Array, itemCodes: Uint8Array, bits: number, uv: Float32Array, iv: Float32Array, d: number, candidates = 200): Scorer {
  const score = hammingScores(userCodes, itemCodes, bits)
  const cand = new Int32Array(candidates)
  return (u, scores, skip, mark, out) => {
    score(u, scores)
    const n = topK(scores, candidates, skip, mark, cand)
    const k = out.length
    let m = 0
    const real = new Float64Array(n)
    for (let c = 0; c < n; c++) {
      let s = 0
      const q = cand[c]! * d
      for (let a = 0; a < d; a++) s += uv[u * d + a]! * iv[q + a]!
      real[c] = s
    }
    for (let c = 0; c < n; c++) {
      const s = real[c]!
      if (m === k && (s < real[out[k - 1]!]! || (s === real[out[k - 1]!]! && cand[c]! > cand[out[k - 1]!]!))) continue
      let p = m < k ? m++ : k - 1
      while (p > 0 && (real[out[p - 1]!]! < s || (real[out[p - 1]!]! === s && cand[out[p - 1]!]! > cand[c]!))) { out[p] = out[p - 1]!; p-- }
      out[p] = c
    }
    for (let r = 0; r < m; r++) out[r] = cand[out[r]!]!
    return m
  }
}
