import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { dequantizeRowsI8, I8_MAX, quantizeRowsI8 } from '../../src/hashing/int8-rows.js'

const rowsArb = fc.integer({ min: 1, max: 6 }).chain((width) => fc.tuple(
  fc.constant(width),
  fc.array(fc.array(fc.float({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), { minLength: width, maxLength: width }), { minLength: 0, maxLength: 5 }),
))

test('quantizeRowsI8 then dequantizeRowsI8 stays within half a step of every value, with scale = max|row| / 127', () => {
  fc.assert(fc.property(rowsArb, ([width, rows]) => {
    const data = Float32Array.from(rows.flat())
    const { q, scale } = quantizeRowsI8(data, rows.length, width)
    const back = dequantizeRowsI8(q, scale, width)
    rows.forEach((row, r) => {
      const max = Math.max(...row.map(Math.abs))
      assert.equal(scale[r], Math.fround(max / I8_MAX))
      for (let j = 0; j < width; j++) {
        assert.ok(q[r * width + j] >= -I8_MAX && q[r * width + j] <= I8_MAX)
        // Half a step, plus float32 rounding of the quotient and the product, plus the coarseness
        // of a subnormal scale (steps of 2^-149) for rows of tiny values.
        const slack = Math.abs(row[j]) * 2 ** -22 + I8_MAX * 2 ** -149
        assert.ok(Math.abs(back[r * width + j] - row[j]) <= scale[r] / 2 + slack, `row ${r} column ${j}`)
      }
    })
  }))
})

test('quantizeRowsI8 stores the largest magnitude as +-127, a zero row as scale 0, and rounds ties to even like numpy rint', () => {
  const { q, scale } = quantizeRowsI8(Float32Array.from([0.5, -1.27, 0, 0, 0, 0, 127, 2.5, -3.5]), 3, 3)
  assert.deepEqual([...q.subarray(0, 3)], [50, -127, 0])
  assert.deepEqual([...q.subarray(3, 6)], [0, 0, 0])
  assert.equal(scale[1], 0)
  // Scale 1 exactly: 2.5 and -3.5 are ties, rounded to the even neighbour.
  assert.equal(scale[2], 1)
  assert.deepEqual([...q.subarray(6, 9)], [127, 2, -4])
  assert.deepEqual([...dequantizeRowsI8(q, scale, 3).subarray(3, 6)], [0, 0, 0])
})

test('quantizeRowsI8 refuses a non-finite value and a length that is not rows x width', () => {
  assert.throws(() => quantizeRowsI8(Float32Array.from([1, NaN]), 1, 2), /non-finite value NaN in row 0, column 1/)
  assert.throws(() => quantizeRowsI8(Float32Array.from([1, Infinity]), 1, 2), /non-finite/)
  assert.throws(() => quantizeRowsI8(new Float32Array(5), 2, 3), /5 values given for 2 rows of 3/)
  assert.throws(() => dequantizeRowsI8(new Int8Array(5), new Float32Array(2), 3), /5 values given/)
})
