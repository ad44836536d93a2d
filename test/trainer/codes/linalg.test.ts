import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { crossProduct, matMul, polarFactor, ridgeSolve, symmetricEigen, transpose } from '../../../src/trainer/codes/linalg.js'

const matrix = (rows: number, cols: number) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: rows * cols, maxLength: rows * cols }).map((x) => Float64Array.from(x))

function assertClose (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  assert.equal(actual.length, expected.length)
  for (let k = 0; k < actual.length; k++) assert.ok(Math.abs(actual[k]! - expected[k]!) <= tol, `entry ${k}: ${actual[k]} vs ${expected[k]}`)
}

test('symmetricEigen reconstructs a random symmetric matrix as V diag(L) V^T with orthonormal V', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 9 }).chain((n) => fc.tuple(fc.constant(n), matrix(n, n))), ([n, m]) => {
    const a = new Float64Array(n * n)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = m[i * n + j]! + m[j * n + i]!
    const { values, vectors } = symmetricEigen(a, n)
    const scaled = new Float64Array(n * n)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) scaled[i * n + j] = vectors[i * n + j]! * values[j]!
    assertClose(matMul(scaled, transpose(vectors, n, n), n, n, n), a, 1e-8)
    const eye = Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0))
    assertClose(crossProduct(vectors, vectors, n, n, n), eye, 1e-9)
  }), { numRuns: 60 })
})

test('polarFactor returns orthonormal columns (tall) or rows (wide) no farther from m than a random rotation', () => {
  for (const [r, c] of [[6, 3], [3, 6], [5, 5]] as const) {
    let seed = r * 7 + c
    const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5 }
    const m = Float64Array.from({ length: r * c }, rand)
    const p = polarFactor(m, r, c)
    const small = Math.min(r, c)
    const eye = Float64Array.from({ length: small * small }, (_, k) => (k % (small + 1) === 0 ? 1 : 0))
    const gram = c <= r ? crossProduct(p, p, r, c, c) : matMul(p, transpose(p, r, c), r, c, r)
    assertClose(gram, eye, 1e-9)
    // Procrustes optimality: trace(m^T p) is the nuclear norm, at least trace(m^T q) for the identity-like q.
    let best = 0; let other = 0
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) { best += m[i * c + j]! * p[i * c + j]!; other += i === j ? m[i * c + j]! : 0 }
    assert.ok(best >= other - 1e-12)
  }
})

test('ridgeSolve solves (A + lambda I) x = b', () => {
  const a = Float64Array.of(4, 1, 0, 1, 3, 1, 0, 1, 2)
  const x = Float64Array.of(1, -1, 2, 0.5, -3, 1)
  const lambda = 0.5
  const shifted = Float64Array.from(a, (v, k) => v + (k % 4 === 0 ? lambda : 0))
  const b = matMul(shifted, x, 3, 3, 2)
  assertClose(ridgeSolve(a, b, 3, 2, lambda), x, 1e-12)
  assert.throws(() => ridgeSolve(Float64Array.of(-1), Float64Array.of(1), 1, 1, 0), /not positive definite/)
})
