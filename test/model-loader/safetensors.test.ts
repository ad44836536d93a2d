import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeSafetensors, parseSafetensors, viewTensor } from '../../src/model-loader/safetensors.js'

test('encodeSafetensors round-trips tensors through parseSafetensors with 8-aligned data', () => {
  const a = Float32Array.from([1, 2, 3, 4, 5, 6])
  const b = Uint8Array.from([7, 8, 9])
  const buf = encodeSafetensors({ b: { dtype: 'U8', shape: [3], data: b }, a: { dtype: 'F32', shape: [2, 3], data: a } }, { note: 'x' })
  const st = parseSafetensors(buf)
  assert.equal(st.dataStart % 8, 0)
  assert.deepEqual(st.metadata, { note: 'x' })
  const ia = st.tensors.get('a')!
  assert.deepEqual(ia.shape, [2, 3])
  assert.deepEqual([...viewTensor(buf, ia, Float32Array)], [...a])
  assert.deepEqual([...viewTensor(buf, st.tensors.get('b')!, Uint8Array)], [7, 8, 9])
})

test('parseSafetensors refuses a header length beyond the file', () => {
  const buf = encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } })
  assert.throws(() => parseSafetensors(buf.subarray(0, 20)), /truncated header/)
  assert.throws(() => parseSafetensors(buf.subarray(0, 5)), /shorter than the 8-byte header length/)
})

test('parseSafetensors refuses tensor data that runs past the end of the file', () => {
  const buf = encodeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } })
  assert.throws(() => parseSafetensors(buf.subarray(0, buf.length - 4)), /past the .* data bytes/)
})

test('parseSafetensors refuses a span that disagrees with shape and dtype, and overlapping tensors', () => {
  const make = (header: object): Buffer => {
    const json = Buffer.from(JSON.stringify(header))
    const out = Buffer.alloc(8 + json.length + 16)
    out.writeBigUInt64LE(BigInt(json.length))
    json.copy(out, 8)
    return out
  }
  assert.throws(() => parseSafetensors(make({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } })), /needs 12/)
  assert.throws(() => parseSafetensors(make({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } })), /overlap/)
  assert.throws(() => parseSafetensors(make({ a: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } })), /not supported/)
  assert.throws(() => parseSafetensors(make([1, 2])), /not a JSON object/)
})

test('viewTensor copies a misaligned tensor instead of failing', () => {
  const buf = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.of(1.5, -2) } })
  const shifted = new Uint8Array(buf.length + 1)
  shifted.set(buf, 1)
  const view = shifted.subarray(1)
  const st = parseSafetensors(view)
  const out = viewTensor(view, st.tensors.get('a')!, Float32Array)
  assert.deepEqual([...out], [1.5, -2])
  assert.notEqual(out.buffer, shifted.buffer)
})
