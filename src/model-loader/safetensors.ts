/**
 * safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {..}}`,
 * then the tensor bytes, offsets relative to the byte after the header. Little-endian, row-major.
 */
import { z } from 'zod'

export const DTYPE_BYTES = { F32: 4, F16: 2, U16: 2, U8: 1, I8: 1, I32: 4 } as const
export type DType = keyof typeof DTYPE_BYTES

/** The reference implementation refuses headers above 100 MB; so do we, before allocating. */
export const MAX_HEADER_BYTES = 100_000_000

export class SafetensorsError extends Error {
  override name = 'SafetensorsError'
}

const EntrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().min(0)),
  data_offsets: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
}).strict()

export interface TensorInfo {
  readonly name: string
  readonly dtype: DType
  readonly shape: readonly number[]
  /** Absolute byte offset of the tensor in the file. */
  readonly offset: number
  readonly byteLength: number
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, TensorInfo>
  readonly metadata: Readonly<Record<string, string>>
  readonly dataStart: number
}

/** Parses and validates the header of a safetensors file held in `bytes`. Throws SafetensorsError. */
export function parseSafetensors (bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < 8) throw new SafetensorsError(`file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLen = Number(view.getBigUint64(0, true))
  if (headerLen > MAX_HEADER_BYTES) throw new SafetensorsError(`header length ${headerLen} exceeds ${MAX_HEADER_BYTES}`)
  if (8 + headerLen > bytes.byteLength) throw new SafetensorsError(`truncated header: needs ${headerLen} bytes, file has ${bytes.byteLength - 8}`)
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)))
  } catch {
    // The parser's message quotes the text it failed on: never echo a file's contents.
    throw new SafetensorsError('header is not valid UTF-8 JSON')
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new SafetensorsError('header is not a JSON object')
  const dataStart = 8 + headerLen
  const dataLen = bytes.byteLength - dataStart
  const tensors = new Map<string, TensorInfo>()
  let metadata: Record<string, string> = {}
  const spans: Array<[number, number, string]> = []
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      const md = z.record(z.string(), z.string()).safeParse(raw)
      if (!md.success) throw new SafetensorsError('__metadata__ must map strings to strings')
      metadata = md.data
      continue
    }
    const entry = EntrySchema.safeParse(raw)
    if (!entry.success) throw new SafetensorsError(`tensor "${name}": malformed entry (${entry.error.issues[0]?.message})`)
    const { dtype, shape, data_offsets: [begin, end] } = entry.data
    if (!(dtype in DTYPE_BYTES)) throw new SafetensorsError(`tensor "${name}": dtype ${dtype} is not supported (${Object.keys(DTYPE_BYTES).join(', ')})`)
    const elements = shape.reduce((a, b) => a * b, 1)
    const expected = elements * DTYPE_BYTES[dtype as DType]
    if (end < begin || end - begin !== expected) throw new SafetensorsError(`tensor "${name}": data_offsets span ${end - begin} bytes, shape ${JSON.stringify(shape)} ${dtype} needs ${expected}`)
    if (end > dataLen) throw new SafetensorsError(`tensor "${name}": data ends at ${end}, past the ${dataLen} data bytes (truncated file?)`)
    spans.push([begin, end, name])
    tensors.set(name, { name, dtype: dtype as DType, shape, offset: dataStart + begin, byteLength: expected })
  }
  spans.sort((a, b) => a[0] - b[0])
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) throw new SafetensorsError(`tensors "${spans[i - 1][2]}" and "${spans[i][2]}" overlap`)
  }
  return { tensors, metadata, dataStart }
}

export interface TensorToWrite {
  readonly dtype: DType
  readonly shape: readonly number[]
  readonly data: ArrayBufferView
}

/**
 * Serializes tensors into one safetensors buffer. Like the reference writer, tensors are laid out
 * contiguously, widest dtype first, and the header is space-padded to a multiple of 8, so every
 * F32 tensor starts 4-byte aligned and the loader can view it without copying.
 */
export function encodeSafetensors (tensors: Readonly<Record<string, TensorToWrite>>, metadata?: Record<string, string>): Buffer {
  const names = Object.keys(tensors).sort((a, b) => DTYPE_BYTES[tensors[b].dtype] - DTYPE_BYTES[tensors[a].dtype] || (a < b ? -1 : a > b ? 1 : 0))
  const header: Record<string, unknown> = {}
  if (metadata) header.__metadata__ = metadata
  let offset = 0
  for (const name of names) {
    const t = tensors[name]
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype]
    if (t.data.byteLength !== expected) throw new SafetensorsError(`tensor "${name}": ${t.data.byteLength} bytes given, shape ${JSON.stringify(t.shape)} ${t.dtype} needs ${expected}`)
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] }
    offset += expected
  }
  let headerJson = JSON.stringify(header)
  const padded = Math.ceil(Buffer.byteLength(headerJson) / 8) * 8
  headerJson += ' '.repeat(padded - Buffer.byteLength(headerJson))
  const out = Buffer.allocUnsafe(8 + padded + offset)
  out.writeBigUInt64LE(BigInt(padded), 0)
  out.write(headerJson, 8, 'utf8')
  let pos = 8 + padded
  for (const name of names) {
    const d = tensors[name].data
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos)
    pos += d.byteLength
  }
  return out
}

/** Little-endian platforms only (x86, ARM): typed arrays are read in host byte order. */
export function viewTensor<T extends Float32Array | Uint8Array | Int8Array | Int32Array | Uint16Array | Uint32Array> (
  bytes: Uint8Array, info: TensorInfo, ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T, new (length: number): T, BYTES_PER_ELEMENT: number },
): T {
  const abs = bytes.byteOffset + info.offset
  const length = info.byteLength / ctor.BYTES_PER_ELEMENT
  if (abs % ctor.BYTES_PER_ELEMENT === 0) return new ctor(bytes.buffer, abs, length)
  // Misaligned (a foreign writer's layout): one copy, still correct.
  const copy = new ctor(length)
  new Uint8Array(copy.buffer).set(bytes.subarray(info.offset, info.offset + info.byteLength))
  return copy
}
