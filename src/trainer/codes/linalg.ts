/**
 * The small dense linear algebra the code learner needs (matrices of at most 128 x 128, row-major
 * Float64Array): a symmetric eigensolver, inverse square roots, Procrustes/polar factors and a
 * ridge solve. Cyclic Jacobi is O(n^3) per sweep and converges in < 15 sweeps at these sizes,
 * which costs a few milliseconds; no native BLAS is available to a plain Node service.
 */

/** Eigen-decomposition of symmetric `a` (n x n): returns eigenvalues and eigenvectors as columns. */
export function symmetricEigen (a: Float64Array, n: number): { values: Float64Array, vectors: Float64Array } {
  const m = Float64Array.from(a)
  const v = new Float64Array(n * n)
  for (let i = 0; i < n; i++) v[i * n + i] = 1
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0
    let diag = 0
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i]! * m[i * n + i]!
      for (let j = i + 1; j < n; j++) off += m[i * n + j]! * m[i * n + j]!
    }
    if (off <= 1e-26 * diag || off === 0) break
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!
        if (apq === 0) continue
        const app = m[p * n + p]!
        const aqq = m[q * n + q]!
        const theta = (aqq - app) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!
          const mkq = m[k * n + q]!
          m[k * n + p] = c * mkp - s * mkq
          m[k * n + q] = s * mkp + c * mkq
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!
          const mqk = m[q * n + k]!
          m[p * n + k] = c * mpk - s * mqk
          m[q * n + k] = s * mpk + c * mqk
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!
          const vkq = v[k * n + q]!
          v[k * n + p] = c * vkp - s * vkq
          v[k * n + q] = s * vkp + c * vkq
        }
      }
    }
  }
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) values[i] = m[i * n + i]!
  return { values, vectors: v }
}

/**
 * f(a) = V f(L) V^T for symmetric `a`; eigenvalues below `floor` * max eigenvalue map to 0 (a
 * pseudo-inverse when f is an inverse power).
 */
export function symmetricFunction (a: Float64Array, n: number, f: (x: number) => number, floor = 1e-10): Float64Array {
  const { values, vectors } = symmetricEigen(a, n)
  let max = 0
  for (let i = 0; i < n; i++) max = Math.max(max, values[i]!)
  const fv = new Float64Array(n)
  for (let i = 0; i < n; i++) fv[i] = values[i]! > floor * max ? f(values[i]!) : 0
  const out = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0
      for (let k = 0; k < n; k++) s += vectors[i * n + k]! * fv[k]! * vectors[j * n + k]!
      out[i * n + j] = s
      out[j * n + i] = s
    }
  }
  return out
}

/** c = a (r x k) * b (k x c). */
export function matMul (a: Float64Array, b: Float64Array, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c)
  for (let i = 0; i < r; i++) {
    for (let t = 0; t < k; t++) {
      const x = a[i * k + t]!
      if (x === 0) continue
      for (let j = 0; j < c; j++) out[i * c + j]! += x * b[t * c + j]!
    }
  }
  return out
}

/** a^T (k x r)^T * b (k x c) = r x c, accumulating over k rows of two row-major tall matrices. */
export function crossProduct (a: ArrayLike<number>, b: ArrayLike<number>, rows: number, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c)
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < r; i++) {
      const x = a[t * r + i]!
      if (x === 0) continue
      const o = i * c
      const q = t * c
      for (let j = 0; j < c; j++) out[o + j]! += x * b[q + j]!
    }
  }
  return out
}

/**
 * The polar factor of m (r x c): the (semi-)orthogonal matrix nearest to m in Frobenius norm, i.e.
 * U V^T of its SVD (orthogonal Procrustes, as in ITQ, Gong and Lazebnik, CVPR 2011, section 2.3).
 * Computed as m (m^T m)^{-1/2} when c <= r, else (m m^T)^{-1/2} m.
 */
export function polarFactor (m: Float64Array, r: number, c: number): Float64Array {
  if (c <= r) {
    const mtm = crossProduct(m, m, r, c, c)
    return matMul(m, symmetricFunction(mtm, c, (x) => 1 / Math.sqrt(x)), r, c, c)
  }
  const mt = transpose(m, r, c)
  const mmt = crossProduct(mt, mt, c, r, r)
  return matMul(symmetricFunction(mmt, r, (x) => 1 / Math.sqrt(x)), m, r, r, c)
}

export function transpose (m: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c)
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = m[i * c + j]!
  return out
}

/** Solves (a + lambda I) x = b for symmetric positive definite a (n x n) and b (n x c) by Cholesky. */
export function ridgeSolve (a: Float64Array, b: Float64Array, n: number, c: number, lambda: number): Float64Array {
  const l = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]! + (i === j ? lambda : 0)
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!
      if (i === j) {
        if (s <= 0) throw new Error('ridgeSolve: matrix is not positive definite; raise lambda')
        l[i * n + i] = Math.sqrt(s)
      } else {
        l[i * n + j] = s / l[j * n + j]!
      }
    }
  }
  const x = Float64Array.from(b)
  for (let col = 0; col < c; col++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * c + col]!
      for (let k = 0; k < i; k++) s -= l[i * n + k]! * x[k * c + col]!
      x[i * c + col] = s / l[i * n + i]!
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * c + col]!
      for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k * c + col]!
      x[i * c + col] = s / l[i * n + i]!
    }
  }
  return x
}
