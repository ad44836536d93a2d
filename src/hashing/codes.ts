/**
 * Packed binary codes, the bundle layout: bit j of a code lives in byte j >> 3 at position j & 7
 * (LSB first, numpy's `packbits(..., bitorder='little')`); a set bit means +1, a clear bit -1.
 */

/** Packs the signs of `values` (rows x bits, row-major) into rows x bits/8 bytes; x >= 0 counts as +1. */
export function packSigns (values: ArrayLike<number>, rows: number, bits: number): Uint8Array {
  const bytes = bits >> 3
  const out = new Uint8Array(rows * bytes)
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < bits; j++) {
      if (values[r * bits + j] >= 0) out[r * bytes + (j >> 3)] |= 1 << (j & 7)
    }
  }
  return out
}

/** Bit j (0/1) of packed code `row`. */
export function codeBit (codes: Uint8Array, bits: number, row: number, j: number): number {
  return (codes[row * (bits >> 3) + (j >> 3)] >> (j & 7)) & 1
}

/** Lowercase hex of a packed code, bytes in order (the API's hex code format). */
export function codeToHex (codes: Uint8Array, bits: number, row: number): string {
  const bytes = bits >> 3
  return Buffer.from(codes.subarray(row * bytes, (row + 1) * bytes)).toString('hex')
}
