/**
 * Throwaway iALS (Hu, Koren, Volinsky 2008) with conjugate-gradient row solves (Takacs et al. 2011),
 * for measuring the codes against a real-valued model. Not the pipeline's MF.
 */
import type { Csr } from '../../src/trainer/csr.js'
import { transposeCsr } from '../../src/trainer/csr.js'

export interface IalsOptions { dim: number, alpha: number, reg: number, iterations: number, seed: number, cgSteps?: number }

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function gram (x: Float32Array, n: number, d: number): Float64Array {
  const g = new Float64Array(d * d)
  for (let r = 0; r < n; r++) {
    const o = r * d
    for (let a = 0; a < d; a++) {
      const xa = x[o + a]!
      for (let b = a; b < d; b++) g[a * d + b]! += xa * x[o + b]!
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) g[a * d + b] = g[b * d + a]!
  return g
}

function half (m: Csr, x: Float32Array, y: Float32Array, d: number, alpha: number, reg: number, steps: number): void {
  const g = gram(y, m.cols, d)
  const rvec = new Float64Array(d); const p = new Float64Array(d); const ap = new Float64Array(d)
  const xr = new Float64Array(d)
  const mult = (v: Float64Array, out: Float64Array, row: number): void => {
    for (let a = 0; a < d; a++) {
      let s = reg * v[a]!
      for (let b = 0; b < d; b++) s += g[a * d + b]! * v[b]!
      out[a] = s
    }
    for (let q = m.indptr[row]!; q < m.indptr[row + 1]!; q++) {
      const o = m.indices[q]! * d
      const c = alpha * m.values[q]!
      let dot = 0
      for (let a = 0; a < d; a++) dot += y[o + a]! * v[a]!
      dot *= c
      for (let a = 0; a < d; a++) out[a]! += dot * y[o + a]!
    }
  }
  for (let row = 0; row < m.rows; row++) {
    const o = row * d
    for (let a = 0; a < d; a++) xr[a] = x[o + a]!
    mult(xr, ap, row)
    rvec.fill(0)
    for (let q = m.indptr[row]!; q < m.indptr[row + 1]!; q++) {
      const oy = m.indices[q]! * d
      const c = 1 + alpha * m.values[q]!
      for (let a = 0; a < d; a++) rvec[a]! += c * y[oy + a]!
    }
    let rs = 0
    for (let a = 0; a < d; a++) { rvec[a] = rvec[a]! - ap[a]!; p[a] = rvec[a]!; rs += rvec[a]! * rvec[a]! }
    for (let s = 0; s < steps && rs > 1e-20; s++) {
      mult(p, ap, row)
      let pap = 0
      for (let a = 0; a < d; a++) pap += p[a]! * ap[a]!
      const step = rs / pap
      let rs2 = 0
      for (let a = 0; a < d; a++) { xr[a]! += step * p[a]!; rvec[a]! -= step * ap[a]!; rs2 += rvec[a]! * rvec[a]! }
      for (let a = 0; a < d; a++) p[a] = rvec[a]! + (rs2 / rs) * p[a]!
      rs = rs2
    }
    for (let a = 0; a < d; a++) x[o + a] = xr[a]!
  }
}

export function trainIals (train: Csr, o: IalsOptions): { userVectors: Float32Array, itemVectors: Float32Array } {
  const d = o.dim
  const next = rng(o.seed)
  const u = new Float32Array(train.rows * d)
  const v = new Float32Array(train.cols * d)
  for (let k = 0; k < v.length; k++) v[k] = (next() - 0.5) * 0.1
  const t = transposeCsr(train)
  for (let it = 0; it < o.iterations; it++) {
    half(train, u, v, d, o.alpha, o.reg, o.cgSteps ?? 3)
    half(t, v, u, d, o.alpha, o.reg, o.cgSteps ?? 3)
  }
  return { userVectors: u, itemVectors: v }
}
