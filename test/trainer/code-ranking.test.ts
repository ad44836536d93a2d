import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codeWords, hammingTopN, signCodesBaseline } from '../../src/trainer/code-ranking.js'

function hamming (a: Uint8Array, ai: number, b: Uint8Array, bi: number, bytes: number): number {
  let d = 0
  for (let k = 0; k < bytes; k++) { let x = a[ai * bytes + k] ^ b[bi * bytes + k]; while (x) { d += x & 1; x >>= 1 } }
  return d
}

test('hammingTopN matches a brute-force sort by (distance, item) without excluded items', () => {
  fc.assert(fc.property(
    fc.constantFrom(32, 64, 128),
    fc.integer({ min: 1, max: 80 }),
    fc.integer({ min: 1, max: 30 }),
    fc.integer({ min: 0, max: 2 ** 31 }),
    (bits, items, n, seed) => {
      const bytes = bits / 8
      let s = seed
      const rand = (): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s >>> 24 }
      const user = Uint8Array.from({ length: bytes }, rand)
      // Few distinct codes so that ties are common.
      const itemCodes = Uint8Array.from({ length: items * bytes }, (_, k) => (k % bytes === 0 ? rand() & 3 : 0))
      const exclude = Int32Array.from(Array.from({ length: items }, (_, i) => i).filter((i) => i % 5 === 3))
      const out = new Int32Array(n)
      const got = hammingTopN(codeWords(user, 1, bits), 0, codeWords(itemCodes, items, bits), items, bits, exclude, 0, exclude.length, n, new Uint8Array(items), out)
      const ex = new Set(exclude)
      const ref = Array.from({ length: items }, (_, i) => i).filter((i) => !ex.has(i))
        .map((i) => ({ i, d: hamming(user, 0, itemCodes, i, bytes) })).sort((a, b) => a.d - b.d || a.i - b.i).slice(0, n).map((x) => x.i)
      assert.deepEqual(Array.from(out.subarray(0, got)), ref)
    },
  ), { seed: 11, numRuns: 200 })
})

test('signCodesBaseline packs bit j = sign of coordinate j, LSB first', () => {
  const v = new Float32Array(32).fill(-1)
  v[0] = 1; v[9] = 0.5; v[31] = 2
  const c = signCodesBaseline(v, 1, 32, 32)
  assert.deepEqual(Array.from(c), [1, 2, 0, 128])
  assert.throws(() => signCodesBaseline(v, 1, 32, 64), RangeError)
})
