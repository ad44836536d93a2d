/**
 * NumPy's .npy format (numpy.lib.format, versions 1.0 to 3.0), for factor matrices written by
 * `np.save`: the magic "\x93NUMPY", a version, a header length (2 bytes in 1.0, 4 in 2.0 and 3.0),
 * then a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), }
 * padded with spaces to a multiple of 64 bytes, then the raw array.
 *
 * Only what factor matrices need is accepted: 2-D, C order, little-endian float32 or float64
 * (float64, numpy's default, is narrowed to float32 as the bundle stores it), finite values.
 * Anything else is refused with a message naming the file and the reason, never guessed at.
 */
import { readFile } from 'node:fs/promises'

export class NpyError extends Error {
  override name = 'NpyError'
}

export interface NpyMatrix {
  readonly rows: number
  readonly cols: number
  /** rows x cols, row-major. */
  readonly data: Float32Array
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY
const DTYPES = { '<f4': 4, '<f8': 8 } as const

interface Header { descr: string, fortranOrder: boolean, shape: number[] }

/** The header dict, read with a grammar for exactly what numpy writes (not a Python evaluator). */
function parseHeader (text: string): Header {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1]
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1]
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1]
  if (descr === undefined || fortran === undefined || shape === undefined) throw new NpyError(`header is not a numpy header dict: ${text.trim().slice(0, 200)}`)
  const dims = shape.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (!dims.every((d) => /^\d+$/.test(d))) throw new NpyError(`shape (${shape}) is not a tuple of integers`)
  return { descr, fortranOrder: fortran === 'True', shape: dims.map(Number) }
}

/** Parses a whole .npy file held in memory. */
export function parseNpy (bytes: Uint8Array): NpyMatrix {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new NpyError('not a .npy file (no \\x93NUMPY magic)')
  const major = bytes[6]
  if (major < 1 || major > 3) throw new NpyError(`unsupported .npy version ${major}.${bytes[7]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true)
  const headerStart = major === 1 ? 10 : 12
  const dataStart = headerStart + headerLength
  if (dataStart > bytes.length) throw new NpyError(`header length ${headerLength} runs past the end of the file`)
  const header = parseHeader(new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart)))
  if (!(header.descr in DTYPES)) throw new NpyError(`dtype ${header.descr}: expected little-endian float32 ('<f4') or float64 ('<f8'); convert with .astype(np.float32)`)
  if (header.fortranOrder) throw new NpyError('fortran_order is True: save a C-ordered array (np.ascontiguousarray)')
  if (header.shape.length !== 2) throw new NpyError(`shape (${header.shape.join(', ')}): expected a 2-D matrix (rows, dimension)`)
  const [rows, cols] = header.shape
  const width = DTYPES[header.descr as keyof typeof DTYPES]
  const expected = rows * cols * width
  if (bytes.length - dataStart !== expected) throw new NpyError(`shape (${rows}, ${cols}) of ${header.descr} needs ${expected} data bytes, the file has ${bytes.length - dataStart}`)
  const data = new Float32Array(rows * cols)
  if (width === 4) {
    // Copy, then read: the data offset is rarely 4-byte aligned in the file buffer.
    const aligned = new Uint8Array(expected)
    aligned.set(bytes.subarray(dataStart, dataStart + expected))
    const src = new Float32Array(aligned.buffer)
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new NpyError('this machine is big-endian')
    data.set(src)
  } else {
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat64(dataStart + i * 8, true)
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new NpyError(`row ${Math.floor(i / cols)}, column ${i % cols} is ${data[i]} (after conversion to float32): factors must be finite`)
  }
  return { rows, cols, data }
}

export async function readNpyMatrix (path: string): Promise<NpyMatrix> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw new NpyError(`${path}: ${(err as Error).message}`)
  }
  try {
    return parseNpy(bytes)
  } catch (err) {
    if (err instanceof NpyError) throw new NpyError(`${path}: ${err.message}`)
    throw err
  }
}
