import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { f16ToF32, f32ToF16 } from '../../src/hashing/f16.js'

test('f16 conversion round-trips exactly representable values and special cases', () => {
  for (const v of [0, 1, -1, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 0.333251953125]) assert.equal(f16ToF32(f32ToF16(v)), v)
  assert.equal(f16ToF32(f32ToF16(1e6)), Infinity)
  assert.ok(Number.isNaN(f16ToF32(f32ToF16(NaN))))
  assert.equal(f32ToF16(-0), 0x8000)
})

test('f32ToF16 rounds to the nearest half-precision value', () => {
  fc.assert(fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
    const y = f16ToF32(f32ToF16(x))
    // Relative error of half precision is at most 2^-11 for normal numbers; absolute 2^-25 near 0.
    assert.ok(Math.abs(y - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `${x} -> ${y}`)
  }))
})
