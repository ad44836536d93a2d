import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { packCodes, signCodes, unpackCodes } from '../../src/bundle-format/codes.js'

test('packCodes puts bit j of a code in byte j >> 3 at position j & 7, LSB first, 1 for +1', () => {
  const bits = 32
  const signs = new Int8Array(2 * bits).fill(-1)
  signs[0] = 1 // row 0, bit 0 -> byte 0, mask 0x01
  signs[11] = 1 // row 0, bit 11 -> byte 1, mask 0x08
  signs[bits + 31] = 1 // row 1, bit 31 -> byte 7, mask 0x80
  assert.deepEqual([...packCodes(signs, 2, bits)], [0x01, 0x08, 0, 0, 0, 0, 0, 0x80])
})

test('unpackCodes inverts packCodes for any +-1 matrix of 32, 64 or 128 bits', () => {
  fc.assert(fc.property(
    fc.constantFrom(32, 64, 128), fc.integer({ min: 0, max: 5 }), fc.infiniteStream(fc.boolean()),
    (bits, rows, stream) => {
      const it = stream[Symbol.iterator]()
      const signs = Int8Array.from({ length: rows * bits }, () => it.next().value ? 1 : -1)
      assert.deepEqual(unpackCodes(packCodes(signs, rows, bits), rows, bits), signs)
    },
  ), { numRuns: 50 })
})

test('signCodes maps negatives to -1 and zero or positives to +1', () => {
  assert.deepEqual([...signCodes(Float32Array.of(-2, 0, 3, -0.001), 1, 4)], [-1, 1, 1, -1])
})
