/** Reading packed codes in tests: the bundle layout (src/bundle-format/codes.ts) bit by bit and as the API's hex. */

/** Bit j (0/1) of packed code `row`. */
export function codeBit (codes: Uint8Array, bits: number, row: number, j: number): number {
  return (codes[row * (bits >> 3) + (j >> 3)] >> (j & 7)) & 1
}

/** Lowercase hex of a packed code, bytes in order (the API's hex code format). */
export function codeToHex (codes: Uint8Array, bits: number, row: number): string {
  const bytes = bits >> 3
  return Buffer.from(codes.subarray(row * bytes, (row + 1) * bytes)).toString('hex')
}

/** The hex of a code viewed as 32-bit words (as the loader holds codes), the inverse of parseHexCode. */
export function formatHexCode (words: Uint32Array, codeBits: number, offset = 0): string {
  let s = ''
  for (let b = 0; b < codeBits / 8; b++) {
    const byte = (words[offset + (b >> 2)] >>> ((b & 3) * 8)) & 0xff
    s += byte.toString(16).padStart(2, '0')
  }
  return s
}
