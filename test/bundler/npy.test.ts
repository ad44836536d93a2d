import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NpyError, parseNpy } from '../../src/bundler/npy.js'

/** A .npy file as numpy.lib.format writes it: magic, version, header length, padded dict, data. */
function npy (major: number, dict: string, data: Uint8Array): Uint8Array {
  const lenBytes = major === 1 ? 2 : 4
  const prefix = 6 + 2 + lenBytes
  let header = dict + ' '
  while ((prefix + header.length + 1) % 64 !== 0) header += ' '
  header += '\n'
  const out = new Uint8Array(prefix + header.length + data.length)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0])
  const view = new DataView(out.buffer)
  if (major === 1) view.setUint16(8, header.length, true); else view.setUint32(8, header.length, true)
  out.set(new TextEncoder().encode(header), prefix)
  out.set(data, prefix + header.length)
  return out
}

test('parseNpy reads float32 and float64 matrices in .npy versions 1, 2 and 3', () => {
  const f32 = new Float32Array([1, -2, 3.5, 4, 5, 6])
  const f64 = new Float64Array([0.1, 0.2, 0.3, 1e30, -1e-3, 7])
  for (const major of [1, 2, 3]) {
    const a = parseNpy(npy(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(f32.buffer)))
    assert.deepEqual([a.rows, a.cols, [...a.data]], [2, 3, [...f32]])
    const b = parseNpy(npy(major, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", new Uint8Array(f64.buffer)))
    assert.deepEqual([b.rows, b.cols, [...b.data]], [3, 2, [...Float32Array.from(f64)]])
  }
})

test('parseNpy refuses what it cannot read faithfully, naming the reason', () => {
  const data = new Uint8Array(new Float32Array(6).buffer)
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /no \\x93NUMPY magic/],
    [npy(4, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data), /unsupported .npy version 4/],
    [npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", data), /dtype >f4/],
    [npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", data), /dtype <i8/],
    [npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data), /expected a 2-D matrix/],
    [npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", data), /needs 32 data bytes, the file has 24/],
    [npy(1, "{'descr': '<f4', 'shape': (2, 3), }", data), /not a numpy header dict/],
    [npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", data), /not a tuple of integers/],
    [npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", new Uint8Array(new Float64Array([1e300]).buffer)), /is Infinity \(after conversion to float32\)/],
  ]
  for (const [bytes, message] of cases) assert.throws(() => parseNpy(bytes), (err: unknown) => err instanceof NpyError && message.test(err.message))
  // A header length that runs past the end of the file.
  const truncated = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data).subarray(0, 40)
  assert.throws(() => parseNpy(truncated), /runs past the end of the file/)
})
