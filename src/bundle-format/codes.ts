/**
 * The bundle's code layout: bit j of a code lives in byte j >> 3 at position j & 7 (LSB first,
 * numpy's `packbits(..., bitorder='little')`); a set bit means +1, a clear bit -1. The loader views
 * the same bytes as little-endian 32-bit words (bit j in word j >> 5 at position j & 31).
 */

/**
 * Writes one code into `out` at word `at`: bit j (word j >> 5, position j & 31, which on the
 * little-endian platforms Node runs on is byte j >> 3, position j & 7) set where values[from + j]
 * >= 0, the code's other bits cleared. The one packer of the project: the bundle writer, the
 * trainer and the query codes (projection, majority) all pack through it.
 */
export function packCode (values: ArrayLike<number>, from: number, bits: number, out: Uint32Array, at: number): void {
  out.fill(0, at, at + (bits >> 5))
  for (let j = 0; j < bits; j++) if (values[from + j] >= 0) out[at + (j >> 5)] |= 1 << (j & 31)
}

/**
 * Packs `rows` codes of `bits` (a multiple of 32) values each into rows x bits/8 bytes of the
 * bundle layout; x >= 0 counts as +1. Row r's values start at r * stride (a stride over `bits`
 * packs the first coordinates of wider rows).
 */
export function packCodes (values: ArrayLike<number>, rows: number, bits: number, stride = bits): Uint8Array {
  if (bits <= 0 || bits % 32 !== 0) throw new RangeError(`codes are a whole number of 32-bit words, got ${bits} bits`)
  const words = bits >> 5
  const out = new Uint32Array(rows * words)
  for (let r = 0; r < rows; r++) packCode(values, r * stride, bits, out, r * words)
  return new Uint8Array(out.buffer)
}

/** The +-1 signs of packed codes, rows x bits (the inverse of packCodes). */
export function unpackCodes (packed: Uint8Array, rows: number, bits: number): Int8Array {
  const bytes = bits >> 3
  const out = new Int8Array(rows * bits)
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < bits; j++) out[r * bits + j] = (packed[r * bytes + (j >> 3)] >> (j & 7)) & 1 ? 1 : -1
  }
  return out
}

/** sign() with ties at 0 sent to +1, as packCodes counts them, so every real vector has a code. */
export function signCodes (x: Float32Array | Float64Array, rows: number, bits: number): Int8Array {
  const out = new Int8Array(rows * bits)
  for (let k = 0; k < rows * bits; k++) out[k] = x[k] >= 0 ? 1 : -1
  return out
}
