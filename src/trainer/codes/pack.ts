/**
 * Conversions between the +-1 working representation (Int8Array, rows x bits) and the bundle's
 * packed layout: bit j of a code in byte j >> 3 at position j & 7 (LSB first), 1 = +1, 0 = -1.
 */

export function packCodes (signs: Int8Array, rows: number, bits: number): Uint8Array {
  const bytes = bits >> 3
  const out = new Uint8Array(rows * bytes)
  for (let r = 0; r < rows; r++) {
    const src = r * bits
    const dst = r * bytes
    for (let j = 0; j < bits; j++) if (signs[src + j]! > 0) out[dst + (j >> 3)]! |= 1 << (j & 7)
  }
  return out
}

export function unpackCodes (packed: Uint8Array, rows: number, bits: number): Int8Array {
  const bytes = bits >> 3
  const out = new Int8Array(rows * bits)
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < bits; j++) out[r * bits + j] = (packed[r * bytes + (j >> 3)]! >> (j & 7)) & 1 ? 1 : -1
  }
  return out
}

/** sign() with ties at 0 sent to +1, so every real vector has a code. */
export function signCodes (x: Float32Array | Float64Array, rows: number, bits: number): Int8Array {
  const out = new Int8Array(rows * bits)
  for (let k = 0; k < rows * bits; k++) out[k] = x[k]! >= 0 ? 1 : -1
  return out
}
