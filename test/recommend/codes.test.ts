import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { packCodes } from '../../src/bundle-format/codes.js'
import { majorityCode, parseHexCode, projectCode } from '../../src/recommend/codes.js'
import { codeToHex, formatHexCode } from '../helpers/codes.js'

const BITS = fc.constantFrom(32, 64, 128)

test('parseHexCode reads the hex of the bundle byte layout into the same words the loader views', () => {
  fc.assert(fc.property(BITS, fc.array(fc.float({ noNaN: true }), { minLength: 128, maxLength: 128 }), (bits, values) => {
    const bytes = packCodes(values, 1, bits)
    const words = new Uint32Array(bits / 32)
    assert.ok(parseHexCode(codeToHex(bytes, bits, 0), bits, words))
    // The loader views the packed bytes as little-endian uint32 words.
    assert.deepEqual(words, new Uint32Array(bytes.buffer.slice(0, bits / 8)))
    assert.equal(formatHexCode(words, bits), codeToHex(bytes, bits, 0))
  }))
})

test('parseHexCode refuses a wrong length or non-hex digits', () => {
  const out = new Uint32Array(2)
  assert.equal(parseHexCode('ab', 64, out), false)
  assert.equal(parseHexCode('zz'.repeat(8), 64, out), false)
})

test('majorityCode agrees with a bit-by-bit count, ties giving 1', () => {
  fc.assert(fc.property(BITS, fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4 * 10, maxLength: 4 * 10 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 12 }), (bits, raw, rows) => {
    const words = bits / 32
    const codes = Uint32Array.from(raw.slice(0, 10 * words))
    const out = new Uint32Array(words)
    majorityCode(codes, words, rows, rows.length, new Int32Array(bits), out)
    for (let j = 0; j < bits; j++) {
      let ones = 0
      for (const r of rows) ones += (codes[r * words + (j >> 5)] >>> (j & 31)) & 1
      assert.equal((out[j >> 5] >>> (j & 31)) & 1, 2 * ones >= rows.length ? 1 : 0)
    }
  }))
})

test('projectCode is sign(v P) bit by bit, zero counting as +1', () => {
  fc.assert(fc.property(BITS, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1e6 }), (bits, d, seed) => {
    let s = seed
    const rand = (): number => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 - 0.5 }
    const v = Float32Array.from({ length: d }, rand)
    const p = Float32Array.from({ length: d * bits }, rand)
    const out = new Uint32Array(bits / 32)
    projectCode(v, p, d, bits, new Float32Array(bits), out)
    for (let j = 0; j < bits; j++) {
      let acc = 0
      for (let i = 0; i < d; i++) acc = Math.fround(acc + Math.fround(v[i] * p[i * bits + j]))
      assert.equal((out[j >> 5] >>> (j & 31)) & 1, acc >= 0 ? 1 : 0)
    }
  }))
})
