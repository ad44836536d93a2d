/**
 * Query codes for users the model has no learned code for. Codes are the bundle's packed layout
 * viewed as little-endian uint32 words: bit j sits in word j >> 5 at position j & 31 (byte j >> 3,
 * position j & 7, as written by the trainer).
 */
import { packCode } from '../bundle-format/codes.js'

/** Parses the bundle's byte layout in hex (byte 0 first, two digits per byte) into `out` words. */
export function parseHexCode (hex: string, codeBits: number, out: Uint32Array): boolean {
  if (hex.length !== codeBits / 4) return false
  out.fill(0)
  for (let b = 0; b < codeBits / 8; b++) {
    const byte = parseInt(hex.slice(2 * b, 2 * b + 2), 16)
    if (Number.isNaN(byte)) return false
    out[b >> 2] |= byte << ((b & 3) * 8)
  }
  return true
}

/**
 * sign(v P) with P dimension x codeBits row-major (the bundle's `user_code_projection`): the code
 * of a user who has a vector (hashed tail, fold-in, raw) but no learned code. Zero maps to 1, the
 * same tie rule as the fold-in majority.
 */
export function projectCode (vector: Float32Array, projection: Float32Array, dimension: number, codeBits: number, acc: Float32Array, out: Uint32Array): void {
  acc.fill(0, 0, codeBits)
  for (let i = 0; i < dimension; i++) {
    const v = vector[i]
    if (v === 0) continue
    const row = i * codeBits
    for (let j = 0; j < codeBits; j++) acc[j] += v * projection[row + j]
  }
  packCode(acc, 0, codeBits, out, 0)
}

/**
 * Bitwise majority of the codes of `rows` (ties -> 1): the Hamming-space analogue of averaging
 * the items' vectors, and the code a session user gets from the items they touched.
 */
export function majorityCode (codes: Uint32Array, codeWords: number, rows: ArrayLike<number>, count: number, counts: Int32Array, out: Uint32Array): void {
  const bits = codeWords * 32
  counts.fill(0, 0, bits)
  for (let r = 0; r < count; r++) {
    const base = rows[r] * codeWords
    for (let w = 0; w < codeWords; w++) {
      let word = codes[base + w]
      while (word !== 0) {
        const low = word & -word
        counts[w * 32 + (31 - Math.clz32(low))]++
        word ^= low
      }
    }
  }
  // Each bit's margin, ones minus zeros: >= 0 is a majority of ones or a tie.
  for (let j = 0; j < bits; j++) counts[j] = 2 * counts[j] - count
  packCode(counts, 0, bits, out, 0)
}
