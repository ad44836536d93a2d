/**
 * One half-sweep of discrete coordinate descent (DCD) over a range of rows: the per-row subproblem
 * of Discrete Collaborative Filtering (Zhang et al., SIGIR 2016: the B- and D-subproblems), extended
 * from observed-only ratings to the whole implicit matrix with iALS weights (Hu, Koren, Volinsky
 * 2008) through the Gram-matrix trick, plus an optional distillation term towards the real-valued
 * scores. The other side's codes are frozen during a half-sweep, so rows are independent: workers
 * can update any partition of them in any order and get the same bits (see learn-codes.ts).
 *
 * For a row with code b in {-1,+1}^r and the other side's codes d_j, prediction p_j = a b.d_j + c
 * and weights w_j = 1 + conf * value_j on observed pairs, w0 elsewhere, the loss is
 *   sum_j w_j (y_j - p_j)^2 + beta sum_j (s_j - p_j)^2 - 2 alpha b.x
 * (y = 1 observed, 0 otherwise; s_j = kappa u.v_j the rescaled real-valued score; x the row of
 * the balanced, decorrelated auxiliary matrix). As a quadratic in b it is b^T Q b - 2 b.g with
 *   Q = (w0 + beta) a^2 G + sum_obs a^2 (w_j - w0) d_j d_j^T,   G = sum over all j of d_j d_j^T
 *   g = a sum_obs (w_j (1 - c) + w0 c) d_j - (w0 + beta) a c sum_j d_j + beta a kappa M u + alpha x
 * (M = sum_j d_j v_j^T, u the row's real vector). Bit k's best value given the others is
 * sign(g_k - sum_{l != k} Q_kl b_l): O(|observed| + r) per bit with the incremental h_j = b.d_j
 * and Q_shared b kept up to date on each flip.
 *
 * The same function runs on the main thread (threads = 1) and inside the workers.
 */

export interface SideBuffers {
  readonly rows: number
  readonly bits: number
  readonly dim: number
  /** rows x bits, +-1, written by this half-sweep. */
  readonly codes: Int8Array
  /** other rows x bits, +-1, read only during this half-sweep. */
  readonly otherCodes: Int8Array
  readonly indptr: Int32Array
  readonly indices: Int32Array
  readonly values: Float32Array
  /** rows x dim real-valued vectors (for the distillation term). */
  readonly vectors: Float32Array
}

export interface HalfSweepParams {
  /** r x r: (w0 + beta) a^2 G. */
  readonly qShared: Float64Array
  /** r: -(w0 + beta) a c sum_j d_j. */
  readonly gConst: Float64Array
  readonly a: number
  readonly c: number
  readonly w0: number
  readonly conf: number
  /** beta a kappa M (r x dim), or null without distillation. */
  readonly distill: Float64Array | null
  readonly alpha: number
  /** Balance/decorrelation: x = sqrt(n) (b - mean) W (DCF's X-subproblem, X = sqrt(n) J B (B^T J B)^{-1/2} from the SVD of J B). */
  readonly mean: Float64Array
  readonly whiten: Float64Array
  readonly sqrtN: number
  readonly passes: number
}

export interface Scratch {
  g: Float64Array
  qb: Float64Array
  x: Float64Array
  b: Float64Array
  h: Float64Array
  e: Float64Array
  /** Observed codes transposed: bit k of observed j at k * capacity + j. */
  local: Float64Array
  /** The longest row the scratch can hold. */
  capacity: number
}

export function createScratch (bits: number, capacity: number): Scratch {
  return {
    g: new Float64Array(bits),
    qb: new Float64Array(bits),
    x: new Float64Array(bits),
    b: new Float64Array(bits),
    h: new Float64Array(capacity),
    e: new Float64Array(capacity),
    local: new Float64Array(bits * Math.max(1, capacity)),
    capacity,
  }
}

/** Updates rows [start, end) in place; returns how many bits flipped. */
export function updateRows (s: SideBuffers, p: HalfSweepParams, start: number, end: number, scratch: Scratch): number {
  const r = s.bits
  const dim = s.dim
  let flips = 0
  const { g, qb, x, b, h, e, local, capacity: cap } = scratch
  for (let row = start; row < end; row++) {
    const p0 = s.indptr[row]!
    const nObs = s.indptr[row + 1]! - p0
    if (nObs > cap) throw new RangeError(`row ${row} has ${nObs} entries, scratch holds ${cap}`)
    const off = row * r
    for (let k = 0; k < r; k++) b[k] = s.codes[off + k]!

    for (let k = 0; k < r; k++) g[k] = p.gConst[k]!
    if (p.alpha > 0) {
      x.fill(0)
      for (let l = 0; l < r; l++) {
        const centred = b[l]! - p.mean[l]!
        if (centred === 0) continue
        const wo = l * r
        for (let k = 0; k < r; k++) x[k]! += centred * p.whiten[wo + k]!
      }
      const scale = p.alpha * p.sqrtN
      for (let k = 0; k < r; k++) g[k]! += scale * x[k]!
    }
    if (p.distill !== null) {
      const vo = row * dim
      for (let k = 0; k < r; k++) {
        let t = 0
        const mo = k * dim
        for (let q = 0; q < dim; q++) t += p.distill[mo + q]! * s.vectors[vo + q]!
        g[k]! += t
      }
    }
    let eSum = 0
    const a2 = p.a * p.a
    for (let j = 0; j < nObs; j++) {
      const col = s.indices[p0 + j]!
      const w = 1 + p.conf * s.values[p0 + j]!
      const t = p.a * (w * (1 - p.c) + p.w0 * p.c)
      e[j] = a2 * (w - p.w0)
      eSum += e[j]!
      const co = col * r
      let dot = 0
      for (let k = 0; k < r; k++) {
        const d = s.otherCodes[co + k]!
        local[k * cap + j] = d
        g[k]! += t * d
        dot += d * b[k]!
      }
      h[j] = dot
    }
    for (let k = 0; k < r; k++) {
      let t = 0
      const qo = k * r
      for (let l = 0; l < r; l++) t += p.qShared[qo + l]! * b[l]!
      qb[k] = t
    }

    for (let pass = 0; pass < p.passes; pass++) {
      let passFlips = 0
      for (let k = 0; k < r; k++) {
        const bk = b[k]!
        const lo = k * cap
        let obs = 0
        for (let j = 0; j < nObs; j++) obs += e[j]! * local[lo + j]! * h[j]!
        const coupling = qb[k]! - p.qShared[k * r + k]! * bk + obs - bk * eSum
        const target = g[k]! - coupling
        const nb = target > 0 ? 1 : target < 0 ? -1 : bk
        if (nb === bk) continue
        const delta = nb - bk
        b[k] = nb
        const qo = k * r
        for (let l = 0; l < r; l++) qb[l]! += delta * p.qShared[qo + l]!
        for (let j = 0; j < nObs; j++) h[j]! += delta * local[lo + j]!
        passFlips++
      }
      flips += passFlips
      if (passFlips === 0) break
    }
    for (let k = 0; k < r; k++) s.codes[off + k] = b[k]!
  }
  return flips
}
