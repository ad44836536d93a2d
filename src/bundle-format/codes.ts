/**
 * The bundle's code layout: bit j of a code lives in byte j >> 3 at position j & 7 (LSB first,
 * numpy's `packbits(..., bitorder='little')`); a set bit means +1, a clear bit -1. The loader views
 * the same bytes as little-endian 32-bit words (bit j in word j >> 5 at position j & 31).
 */

/**
 * Packs the signs of `rows` codes of `bits` values each into rows x bits/8 bytes; x >= 0 counts as
 * +1. Row r's values start at r * stride (a stride over `bits` packs the first coordinates of wider rows).
 */
export function packCodes (values: ArrayLike<number>, rows: number, bits: number, stride = bits): Uint8Array {
  const bytes = bits >> 3
  const out = new Uint8Array(rows * bytes)
  for (let r = 0; r < rows; r++) {
    const src = r * stride
    const dst = r * bytes
    for (let j = 0; j < bits; j++) if (values[src + j] >= 0) out[dst + (j >> 3)] |= 1 << (j & 7)
  }
  return out
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
