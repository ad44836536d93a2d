/**
 * Least-squares fold-in: a fresh user vector from the items the user interacted with, against the
 * model's fixed item vectors. It is exactly the iALS user step (Hu, Koren and Volinsky 2008, eq. 4)
 * with binary preferences and confidence 1 + alpha on the user's items:
 *
 *   u = (V^T V + alpha V_S^T V_S + reg_S I)^-1 (1 + alpha) V_S^T 1,  reg_S = reg (1 + |S|)^regExponent
 *
 * V^T V is precomputed per model (Model.itemGram), so a request costs O(|S| d^2 + d^3 / 3):
 * for d = 64 and |S| = 50 about 0.3 M multiply-adds. The |S| d^2 rank update runs as a WebAssembly
 * SIMD kernel where the engine has one (src/realtime/fold-in-wasm.ts: 2,000 rows at d = 64, p50
 * 2.4 -> 1.2 ms side by side), else as the JavaScript loops below.
 */
import type { Model } from '../model-loader/model.js'
import { createFoldInKernel, type FoldInKernel } from './fold-in-wasm.js'

export interface FoldInScratch {
  readonly a: Float64Array
  readonly b: Float64Array
  /** The WebAssembly SIMD rank update (src/realtime/fold-in-wasm.ts); null: the JavaScript loop. */
  readonly kernel: FoldInKernel | null
}

/** `wasm: false` keeps the JavaScript rank update (the fallback when WebAssembly SIMD is missing). */
export function createFoldInScratch (dimension: number, options: { wasm?: boolean } = {}): FoldInScratch {
  const kernel = options.wasm === false ? null : createFoldInKernel(dimension)
  return { a: new Float64Array(dimension * dimension), b: new Float64Array(dimension), kernel }
}

type FoldInModel = Pick<Model, 'dimension' | 'itemVectors' | 'itemGram' | 'foldIn'>

/**
 * Writes the folded-in vector of items `rows[0..n)` into `out`. Returns false (and leaves `out`
 * alone) when n = 0 or the system is not positive definite (only with a degenerate model).
 */
export function foldInVector (model: FoldInModel, rows: Int32Array, n: number, out: Float32Array, scratch: FoldInScratch): boolean {
  if (n === 0) return false
  const d = model.dimension
  const { a, b } = scratch
  const { alpha, regExponent } = model.foldIn
  const reg = model.foldIn.reg * (regExponent === 0 ? 1 : Math.pow(1 + n, regExponent))
  if (scratch.kernel !== null) normalEquationsWasm(model, rows, n, scratch.kernel, a, b)
  else normalEquationsJs(model, rows, n, a, b)
  for (let i = 0; i < d; i++) { a[i * d + i] += reg; b[i] *= 1 + alpha }
  if (!choleskySolveUpper(a, b, d)) return false
  for (let i = 0; i < d; i++) out[i] = b[i]
  return true
}

/**
 * The upper triangle of a = G + alpha V_S^T V_S and b = V_S^T 1 by the WebAssembly kernel: rows
 * gathered a chunk at a time, then a = G + alpha * (the kernel's sum).
 */
function normalEquationsWasm (model: FoldInModel, rows: Int32Array, n: number, kernel: FoldInKernel, a: Float64Array, b: Float64Array): void {
  const d = model.dimension
  const v = model.itemVectors
  const { stride, chunkRows, staged, gram, sums } = kernel
  gram.fill(0)
  sums.fill(0)
  for (let from = 0; from < n; from += chunkRows) {
    const count = Math.min(chunkRows, n - from)
    // Columns d..stride of a staged row are never written: they stay 0 from the memory's allocation.
    for (let r = 0; r < count; r++) {
      const base = rows[from + r] * d
      staged.set(v.subarray(base, base + d), r * stride)
    }
    kernel.accumulate(count)
  }
  const alpha = model.foldIn.alpha
  const g = model.itemGram
  for (let i = 0; i < d; i++) {
    const row = i * d
    const k = i * stride
    for (let j = i; j < d; j++) a[row + j] = g[row + j] + alpha * gram[k + j]
    b[i] = sums[i]
  }
}

/** The same by JavaScript loops (the fallback). */
function normalEquationsJs (model: FoldInModel, rows: Int32Array, n: number, a: Float64Array, b: Float64Array): void {
  const d = model.dimension
  const alpha = model.foldIn.alpha
  const v = model.itemVectors
  a.set(model.itemGram)
  b.fill(0)
  let r = 0
  for (; r + 4 <= n; r += 4) {
    const b0 = rows[r] * d
    const b1 = rows[r + 1] * d
    const b2 = rows[r + 2] * d
    const b3 = rows[r + 3] * d
    // Four rows of a per pass as well: the four item values at column j are loaded once for
    // the four. From column i on, so the 4 x 4 diagonal block also writes a few entries below the
    // diagonal, which the Cholesky never reads.
    let i = 0
    for (; i + 4 <= d; i += 4) {
      const p0 = alpha * v[b0 + i]
      const p1 = alpha * v[b1 + i]
      const p2 = alpha * v[b2 + i]
      const p3 = alpha * v[b3 + i]
      const q0 = alpha * v[b0 + i + 1]
      const q1 = alpha * v[b1 + i + 1]
      const q2 = alpha * v[b2 + i + 1]
      const q3 = alpha * v[b3 + i + 1]
      const s0 = alpha * v[b0 + i + 2]
      const s1 = alpha * v[b1 + i + 2]
      const s2 = alpha * v[b2 + i + 2]
      const s3 = alpha * v[b3 + i + 2]
      const t0 = alpha * v[b0 + i + 3]
      const t1 = alpha * v[b1 + i + 3]
      const t2 = alpha * v[b2 + i + 3]
      const t3 = alpha * v[b3 + i + 3]
      const r0 = i * d
      const r1 = r0 + d
      const r2 = r1 + d
      const r3 = r2 + d
      for (let j = i; j < d; j++) {
        const w0 = v[b0 + j]
        const w1 = v[b1 + j]
        const w2 = v[b2 + j]
        const w3 = v[b3 + j]
        a[r0 + j] += (p0 * w0 + p1 * w1) + (p2 * w2 + p3 * w3)
        a[r1 + j] += (q0 * w0 + q1 * w1) + (q2 * w2 + q3 * w3)
        a[r2 + j] += (s0 * w0 + s1 * w1) + (s2 * w2 + s3 * w3)
        a[r3 + j] += (t0 * w0 + t1 * w1) + (t2 * w2 + t3 * w3)
      }
    }
    for (; i < d; i++) {
      const a0 = alpha * v[b0 + i]
      const a1 = alpha * v[b1 + i]
      const a2 = alpha * v[b2 + i]
      const a3 = alpha * v[b3 + i]
      const row = i * d
      for (let j = i; j < d; j++) a[row + j] += (a0 * v[b0 + j] + a1 * v[b1 + j]) + (a2 * v[b2 + j] + a3 * v[b3 + j])
    }
    for (let k = 0; k < d; k++) b[k] += (v[b0 + k] + v[b1 + k]) + (v[b2 + k] + v[b3 + k])
  }
  for (; r < n; r++) {
    const base = rows[r] * d
    for (let i = 0; i < d; i++) {
      const vi = v[base + i]
      b[i] += vi
      const ai = alpha * vi
      const row = i * d
      for (let j = i; j < d; j++) a[row + j] += ai * v[base + j]
    }
  }
}

/**
 * Solves A x = b in place (x overwrites b) for symmetric positive definite A given by its upper
 * triangle, factoring A = R^T R with R upper triangular (overwrites the upper triangle of A).
 */
export function choleskySolveUpper (a: Float64Array, b: Float64Array, d: number): boolean {
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j]
    for (let k = 0; k < j; k++) s -= a[k * d + j] * a[k * d + j]
    if (!(s > 0)) return false
    const rjj = Math.sqrt(s)
    a[j * d + j] = rjj
    for (let i = j + 1; i < d; i++) {
      let t = a[j * d + i]
      for (let k = 0; k < j; k++) t -= a[k * d + j] * a[k * d + i]
      a[j * d + i] = t / rjj
    }
  }
  // R^T y = b (forward), then R x = y (backward).
  for (let i = 0; i < d; i++) {
    let s = b[i]
    for (let k = 0; k < i; k++) s -= a[k * d + i] * b[k]
    b[i] = s / a[i * d + i]
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = b[i]
    for (let k = i + 1; k < d; k++) s -= a[i * d + k] * b[k]
    b[i] = s / a[i * d + i]
  }
  return true
}
