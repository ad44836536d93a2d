import assert from 'node:assert/strict'
import { test } from 'node:test'
import { computeItemGram } from '../../src/model-loader/item-vectors.js'
import { createFoldInKernel } from '../../src/realtime/fold-in-wasm.js'
import { createFoldInScratch, foldInVector, type FoldInScratch } from '../../src/realtime/fold-in.js'
import { simdSupported } from '../../src/search/wasm/assembler.js'
import { seededRandom } from '../helpers/bundle-fixture.js'

function randomModel (items: number, d: number, seed: number) {
  const rand = seededRandom(seed)
  const itemVectors = Float32Array.from({ length: items * d }, () => rand() * 2 - 1)
  return { dimension: d, itemVectors, itemGram: computeItemGram(itemVectors, items, d), foldIn: { alpha: 10, reg: 0.1, regExponent: 0.5 } }
}

/** The normal equations written out naively and solved by Gaussian elimination with partial pivoting. */
function referenceSolve (model: ReturnType<typeof randomModel>, rows: Int32Array): Float64Array {
  const d = model.dimension
  const { alpha, reg, regExponent } = model.foldIn
  const v = model.itemVectors
  const m = Array.from({ length: d }, (_, i) => Float64Array.from({ length: d + 1 }, (_, j) => j < d ? model.itemGram[i * d + j] : 0))
  for (const r of rows) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) m[i][j] += alpha * v[r * d + i] * v[r * d + j]
      m[i][d] += (1 + alpha) * v[r * d + i]
    }
  }
  for (let i = 0; i < d; i++) m[i][i] += reg * Math.pow(1 + rows.length, regExponent)
  for (let c = 0; c < d; c++) {
    let p = c
    for (let i = c + 1; i < d; i++) if (Math.abs(m[i][c]) > Math.abs(m[p][c])) p = i
    ;[m[c], m[p]] = [m[p], m[c]]
    for (let i = c + 1; i < d; i++) {
      const f = m[i][c] / m[c][c]
      for (let j = c; j <= d; j++) m[i][j] -= f * m[c][j]
    }
  }
  const x = new Float64Array(d)
  for (let i = d - 1; i >= 0; i--) {
    let s = m[i][d]
    for (let j = i + 1; j < d; j++) s -= m[i][j] * x[j]
    x[i] = s / m[i][i]
  }
  return x
}

function assertClose (actual: Float64Array, expected: Float64Array, tolerance: number, what: string): void {
  let scale = 0
  for (const e of expected) scale = Math.max(scale, Math.abs(e))
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `${what}: entry ${i} is ${actual[i]}, expected ${expected[i]}`)
  }
}

/** The float64 solution the solve leaves in scratch.b (out holds it rounded to float32). */
function solve (model: ReturnType<typeof randomModel>, rows: Int32Array, scratch: FoldInScratch): Float64Array | null {
  const out = new Float32Array(model.dimension)
  return foldInVector(model, rows, rows.length, out, scratch) ? Float64Array.from(scratch.b) : null
}

test('the WebAssembly fold-in equals the JavaScript one to 1e-9 for dimensions off and on multiples of 4 and 0 to 2,000 rows', { skip: !simdSupported() }, () => {
  for (const d of [1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 33, 64]) {
    const items = 3000
    const model = randomModel(items, d, 1000 + d)
    const rand = seededRandom(d)
    // One scratch of each kind for every solve of this dimension: the kernel's sums are reset per call.
    const wasmScratch = createFoldInScratch(d)
    const jsScratch = createFoldInScratch(d, { wasm: false })
    assert.notEqual(wasmScratch.kernel, null)
    for (const n of [0, 1, 5, 2000]) {
      // Random rows, repeats included (a repeated item counts twice in both paths).
      const rows = Int32Array.from({ length: n }, () => Math.floor(rand() * items))
      const fromWasm = solve(model, rows, wasmScratch)
      const fromJs = solve(model, rows, jsScratch)
      if (n === 0) {
        assert.equal(fromWasm, null)
        assert.equal(fromJs, null)
        continue
      }
      assert.ok(fromWasm !== null && fromJs !== null)
      assertClose(fromWasm, fromJs, 1e-9, `d = ${d}, n = ${n}`)
      assertClose(fromWasm, referenceSolve(model, rows), 1e-9, `d = ${d}, n = ${n}, reference`)
    }
  }
})

test('a fold-in scratch without the kernel (WebAssembly SIMD unavailable) solves by the JavaScript loop, correctly', () => {
  const d = 6
  const model = randomModel(50, d, 7)
  const scratch = createFoldInScratch(d, { wasm: false })
  assert.equal(scratch.kernel, null)
  const rows = Int32Array.of(3, 9, 9, 41, 0, 17, 22)
  const x = solve(model, rows, scratch)
  assert.ok(x !== null)
  assertClose(x, referenceSolve(model, rows), 1e-9, 'fallback')
})

test('createFoldInKernel answers null for an empty dimension, so the scratch falls back', () => {
  assert.equal(createFoldInKernel(0), null)
  assert.equal(createFoldInScratch(0).kernel, null)
})
