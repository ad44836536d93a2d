import assert from 'node:assert/strict'
import { test } from 'node:test'
import { murmur3String, murmur3x86_32 } from '../../src/hashing/murmur3.js'

// Published vectors for MurmurHash3_x86_32: the SMHasher reference implementation's commonly cited
// checks, and scikit-learn's test_murmurhash.py (murmurhash3_32 with positive=True).
const VECTORS: Array<[string, number, number]> = [
  ['', 0, 0],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['aaa', 0x9747b28c, 0x283e0130],
  ['aa', 0x9747b28c, 0x5d211726],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['abcd', 0x9747b28c, 0xf0478627],
  ['abc', 0x9747b28c, 0xc84a62dd],
  ['ab', 0x9747b28c, 0x74875592],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ['foo', 0, 4138058784],
  ['foo', 42, 2972666014],
]

test('murmur3String matches published MurmurHash3_x86_32 reference vectors', () => {
  for (const [input, seed, expected] of VECTORS) {
    assert.equal(murmur3String(input, seed), expected, `${JSON.stringify(input)} seed ${seed}`)
  }
})

test('murmur3 hashes UTF-8 bytes, so a non-ASCII id equals the hash of its encoded bytes', () => {
  const id = 'utilisateur-é-日本-🎬'
  assert.equal(murmur3String(id, 7), murmur3x86_32(new TextEncoder().encode(id), 7))
  // sklearn: murmurhash3_32(u'π', 0, positive=True) hashes the UTF-8 bytes cf 80.
  assert.equal(murmur3String('π', 0), murmur3x86_32(Uint8Array.of(0xcf, 0x80), 0))
})

test('murmur3x86_32 over a sub-range equals the hash of the copied bytes', () => {
  const bytes = new TextEncoder().encode('xxHello, world!yy')
  assert.equal(murmur3x86_32(bytes, 0x9747b28c, 2, 13), 0x24884cba)
})

test('murmur3String handles ids longer than its scratch buffer', () => {
  const long = 'x'.repeat(5000)
  assert.equal(murmur3String(long, 3), murmur3x86_32(new TextEncoder().encode(long), 3))
})
