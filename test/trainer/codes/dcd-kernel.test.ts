import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { csrFromPairs } from '../../../src/trainer/csr.js'
import { createScratch, updateRows, type HalfSweepParams } from '../../../src/trainer/codes/dcd-kernel.js'
import { DEFAULT_CODE_OPTIONS, createRng, halfSweepParams, sideStats } from '../../../src/trainer/codes/learn-codes.js'

/**
 * The row loss written out pair by pair, with none of the Gram-matrix algebra the kernel uses:
 * sum_j w_j (y_j - a b.d_j - c)^2 + beta sum_j (kappa u.v_j - a b.d_j - c)^2 - 2 alpha b.x(b0).
 */
function naiveLoss (b: Int8Array, b0: Int8Array, row: number, env: Env, p: HalfSweepParams): number {
  const { bits, dim, other, otherCodes, vectors, otherVectors, observed, beta } = env
  let loss = 0
  for (let j = 0; j < other; j++) {
    let h = 0
    for (let k = 0; k < bits; k++) h += b[k]! * otherCodes[j * bits + k]!
    const pred = p.a * h + p.c
    const value = observed.get(row * other + j)
    const w = value === undefined ? p.w0 : 1 + p.conf * value
    loss += w * ((value === undefined ? 0 : 1) - pred) ** 2
    if (beta > 0) {
      let s = 0
      for (let q = 0; q < dim; q++) s += vectors[row * dim + q]! * otherVectors[j * dim + q]!
      loss += beta * (env.kappa * s - pred) ** 2
    }
  }
  if (p.alpha > 0) {
    for (let k = 0; k < bits; k++) {
      let x = 0
      for (let l = 0; l < bits; l++) x += (b0[l]! - p.mean[l]!) * p.whiten[l * bits + k]!
      loss -= 2 * p.alpha * p.sqrtN * b[k]! * x
    }
  }
  return loss
}

interface Env {
  bits: number; dim: number; rows: number; other: number
  codes: Int8Array; otherCodes: Int8Array; vectors: Float32Array; otherVectors: Float32Array
  observed: Map<number, number>; beta: number; kappa: number
}

test('a DCD half-sweep never raises a row\'s loss and stops where no single bit flip lowers it', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom(0, 0.5), fc.constantFrom(0, 0.3), fc.constantFrom(1, 4),
    (seed, beta, alpha, conf) => {
      const next = createRng(seed)
      const bits = 8; const dim = 3; const rows = 4; const other = 25
      const randCodes = (n: number): Int8Array => Int8Array.from({ length: n * bits }, () => (next() < 0.5 ? 1 : -1))
      const env: Env = {
        bits, dim, rows, other, beta, kappa: 0.5 + next() * 1.5,
        codes: randCodes(rows), otherCodes: randCodes(other),
        vectors: Float32Array.from({ length: rows * dim }, () => next() - 0.5),
        otherVectors: Float32Array.from({ length: other * dim }, () => next() - 0.5),
        observed: new Map(),
      }
      const ri: number[] = []; const ci: number[] = []; const vals: number[] = []
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < other; j++) {
          if (next() < 0.25) { const v = 1 + Math.floor(next() * 3); ri.push(r); ci.push(j); vals.push(v); env.observed.set(r * other + j, v) }
        }
      }
      const m = csrFromPairs(rows, other, Int32Array.from(ri), Int32Array.from(ci), Float32Array.from(vals))
      const o = { ...DEFAULT_CODE_OPTIONS, w0: 0.7, conf, distill: beta, balance: alpha, passes: 100 }
      const own = sideStats(env.codes, env.vectors, rows, bits, dim, beta > 0, alpha > 0)
      const oth = sideStats(env.otherCodes, env.otherVectors, other, bits, dim, beta > 0, alpha > 0)
      const p = halfSweepParams(oth, own, rows, { a: 0.05 + next() * 0.2, c: next() * 0.3 }, o, env.kappa)
      const before = Int8Array.from(env.codes)
      updateRows({ rows, bits, dim, codes: env.codes, otherCodes: env.otherCodes, indptr: m.indptr, indices: m.indices, values: m.values, vectors: env.vectors }, p, 0, rows, createScratch(bits, other))
      for (let r = 0; r < rows; r++) {
        const b0 = before.subarray(r * bits, (r + 1) * bits)
        const b = env.codes.slice(r * bits, (r + 1) * bits)
        const final = naiveLoss(b, b0, r, env, p)
        assert.ok(final <= naiveLoss(b0, b0, r, env, p) + 1e-9, 'loss went up')
        for (let k = 0; k < bits; k++) {
          b[k] = -b[k]!
          assert.ok(naiveLoss(b, b0, r, env, p) >= final - 1e-9, `flipping bit ${k} of row ${r} lowers the loss`)
          b[k] = -b[k]!
        }
      }
    },
  ), { numRuns: 40 })
})

test('updateRows rejects a row longer than its scratch space', () => {
  const m = csrFromPairs(1, 3, Int32Array.of(0, 0, 0), Int32Array.of(0, 1, 2))
  const own = sideStats(new Int8Array(8).fill(1), new Float32Array(1), 1, 8, 1, false, false)
  const oth = sideStats(new Int8Array(24).fill(1), new Float32Array(3), 3, 8, 1, false, false)
  const p = halfSweepParams(oth, own, 1, { a: 0.1, c: 0 }, DEFAULT_CODE_OPTIONS)
  const side = { rows: 1, bits: 8, dim: 1, codes: new Int8Array(8).fill(1), otherCodes: new Int8Array(24).fill(1), indptr: m.indptr, indices: m.indices, values: m.values, vectors: new Float32Array(1) }
  assert.throws(() => updateRows(side, p, 0, 1, createScratch(8, 2)), RangeError)
})
