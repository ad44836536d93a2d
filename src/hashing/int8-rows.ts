/**
 * Symmetric per-row int8 quantization of embedding tables (docs/model-bundle.md, dtype I8): row r
 * is stored as int8 values q and one float32 scale s = max|row| / 127, and read back as s * q. A
 * row of 64 values then costs 64 + 4 bytes instead of 128 at F16, so a byte budget holds nearly
 * twice the rows. The trainer rounds with `quantizeRowsI8` exactly as the bundle will store them and
 * the loader reads them with `dequantizeRowsI8`, so both see the same vectors.
 */

/** Largest stored magnitude: -128 is never written, so the range is symmetric around 0. */
export const I8_MAX = 127

export interface QuantizedRows {
  /** rows x width, row-major. */
  readonly q: Int8Array
  /** One scale per row, >= 0; 0 for an all-zero row. */
  readonly scale: Float32Array
}

/**
 * numpy's rint: round to nearest, ties to even. Applied to a float32 quotient (float32 x / float32
 * scale, rounded once to float32 as numpy divides float32 arrays), so the bytes equal those of the
 * docs' numpy snippet.
 */
function rint (x: number): number {
  const r = Math.round(x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/**
 * Quantizes `rows` rows of `width` float32 values: scale = max|row| / 127 (rounded to float32, the
 * value stored), q = rint(x / scale) clamped to [-127, 127]; an all-zero row has scale 0 and q 0.
 * A non-finite value throws: it has no int8 image.
 */
export function quantizeRowsI8 (data: Float32Array, rows: number, width: number): QuantizedRows {
  if (data.length !== rows * width) throw new RangeError(`${data.length} values given for ${rows} rows of ${width}`)
  const q = new Int8Array(rows * width)
  const scale = new Float32Array(rows)
  for (let r = 0, base = 0; r < rows; r++, base += width) {
    let max = 0
    for (let j = 0; j < width; j++) {
      const a = Math.abs(data[base + j])
      if (!(a < Infinity)) throw new RangeError(`non-finite value ${data[base + j]} in row ${r}, column ${j}`)
      if (a > max) max = a
    }
    scale[r] = max / I8_MAX
    const s = scale[r]
    if (s === 0) continue
    for (let j = 0; j < width; j++) {
      const v = rint(Math.fround(data[base + j] / s))
      q[base + j] = v > I8_MAX ? I8_MAX : v < -I8_MAX ? -I8_MAX : v
    }
  }
  return { q, scale }
}

/** rows x width float32 values s[r] * q[r, j]: the vectors the loader serves for an I8 table. */
export function dequantizeRowsI8 (q: Int8Array, scale: Float32Array, width: number): Float32Array {
  const rows = scale.length
  if (q.length !== rows * width) throw new RangeError(`${q.length} values given for ${rows} rows of ${width}`)
  const out = new Float32Array(q.length)
  for (let r = 0, base = 0; r < rows; r++, base += width) {
    const s = scale[r]
    for (let j = 0; j < width; j++) out[base + j] = s * q[base + j]
  }
  return out
}
