/**
 * Structural validation of an hnswlib index file before hnswlib-node reads it.
 *
 * hnswlib trusts its file: loadIndex checks only that the link-list sizes add up to the file
 * length, and searchKnn follows every stored neighbour id into its arrays. A neighbour id past the
 * element count, a level that disagrees with the element's own list, or a header that disagrees
 * with the element size reads outside its allocations: a corrupt items.hnsw with a recomputed
 * checksum made the first `method=mips` query spin inside native code, where neither /healthz nor
 * SIGTERM reached it. So every field hnswlib follows is checked here first; a file that passes is
 * one where every read searchKnn makes lands inside the arrays loadIndex allocated, and every walk
 * visits elements that exist (greedy descents strictly decrease a distance, the base layer keeps a
 * visited list), so it ends.
 *
 * The layout (hnswalg.h saveIndex, hnswlib 0.8): a 96-byte header; `count` level-0 records of
 * `sizePerElement` bytes (a uint32 whose low 16 bits count the links and whose third byte holds
 * the deleted mark, maxM0 uint32 neighbour ids, the vector as float32, the uint64 label); then per
 * element a uint32 byte length and, for elements above level 0, `level` lists of (uint32 count +
 * maxM uint32 ids).
 */
import { open } from 'node:fs/promises'

export const HNSW_HEADER_BYTES = 96
/**
 * Highest level accepted. hnswlib draws levels as floor(-ln U / ln M): for M >= 2 a level past 64
 * has a chance of about e^-44 per element.
 */
export const HNSW_MAX_LEVEL = 64
/**
 * max_elements sizes hnswlib's allocations (a level-0 record, a mutex and a pointer per slot): a
 * file may reserve room for more elements than it holds, but at most this many times the count.
 */
const MAX_SLACK = 2

/** What the model expects of its index. */
export interface HnswExpectation {
  readonly count: number
  readonly M: number
  /** Vector width inside the index; undefined checks only that the header is self-consistent (the caller compares it). */
  readonly dimension?: number
}

export interface HnswHeader {
  readonly maxElements: number
  readonly count: number
  readonly sizePerElement: number
  readonly labelOffset: number
  readonly offsetData: number
  readonly maxLevel: number
  readonly enterPoint: number
  readonly maxM: number
  readonly maxM0: number
  readonly M: number
  readonly dimension: number
}

/** A file refused: `field` names the header field or part of the file, the message the problem. */
export class HnswFileError extends Error {
  override name = 'HnswFileError'
  constructor (readonly field: string, message: string) {
    super(message)
  }
}

function fail (field: string, message: string): never {
  throw new HnswFileError(field, message)
}

/** A size_t of the header; anything past 2^32 is out of every range checked here. */
function u64 (view: DataView, offset: number, field: string): number {
  if (view.getUint32(offset + 4, true) !== 0) fail(field, 'is larger than 2^32')
  return view.getUint32(offset, true)
}

/** Bytes the level-0 records take, where the link lists start. */
export function level0End (h: HnswHeader): number {
  return HNSW_HEADER_BYTES + h.count * h.sizePerElement
}

/** Parses and checks the header of a file of `fileBytes` bytes against the model's expectation. */
export function checkHnswHeader (bytes: Uint8Array, fileBytes: number, expected: HnswExpectation): HnswHeader {
  if (bytes.length < HNSW_HEADER_BYTES || fileBytes < HNSW_HEADER_BYTES) fail('header', `the file is ${fileBytes} bytes, shorter than hnswlib's ${HNSW_HEADER_BYTES}-byte header`)
  const v = new DataView(bytes.buffer, bytes.byteOffset, HNSW_HEADER_BYTES)
  if (u64(v, 0, 'offsetLevel0') !== 0) fail('offsetLevel0', 'must be 0')
  const maxElements = u64(v, 8, 'maxElements')
  const count = u64(v, 16, 'count')
  const sizePerElement = u64(v, 24, 'sizePerElement')
  const labelOffset = u64(v, 32, 'labelOffset')
  const offsetData = u64(v, 40, 'offsetData')
  const maxLevel = v.getInt32(48, true)
  const enterPoint = v.getUint32(52, true)
  const maxM = u64(v, 56, 'maxM')
  const maxM0 = u64(v, 64, 'maxM0')
  const M = u64(v, 72, 'M')
  const mult = v.getFloat64(80, true)

  if (count !== expected.count) fail('count', `the index holds ${count} items, the manifest counts ${expected.count}`)
  if (count < 1) fail('count', 'an index file holds at least one item')
  if (maxElements < count || maxElements > MAX_SLACK * count) fail('maxElements', `${maxElements} must be between the count (${count}) and ${MAX_SLACK}x it`)
  if (M !== expected.M) fail('M', `the index was built with M=${M}, the manifest says ${expected.M}`)
  if (maxM !== M) fail('maxM', `${maxM} must equal M (${M})`)
  if (maxM0 !== 2 * M) fail('maxM0', `${maxM0} must be 2M (${2 * M})`)
  if (offsetData !== 4 + 4 * maxM0) fail('offsetData', `${offsetData} must be ${4 + 4 * maxM0} for maxM0=${maxM0}`)
  const dataBytes = labelOffset - offsetData
  if (dataBytes <= 0 || dataBytes % 4 !== 0) fail('labelOffset', `${labelOffset} leaves ${dataBytes} bytes of vector, not a positive multiple of 4`)
  const dimension = dataBytes / 4
  if (expected.dimension !== undefined && dimension !== expected.dimension) fail('dimension', `the index holds ${dimension}-dimensional vectors, the model needs ${expected.dimension}`)
  if (sizePerElement !== labelOffset + 8) fail('sizePerElement', `${sizePerElement} must be labelOffset + 8 (${labelOffset + 8})`)
  if (!Number.isFinite(mult) || mult <= 0) fail('mult', 'must be a positive finite number')
  if (maxLevel < 0 || maxLevel > HNSW_MAX_LEVEL) fail('maxLevel', `${maxLevel} is outside 0..${HNSW_MAX_LEVEL}`)
  if (enterPoint >= count) fail('enterPoint', `${enterPoint} is not an element (count ${count})`)
  const h: HnswHeader = { maxElements, count, sizePerElement, labelOffset, offsetData, maxLevel, enterPoint, maxM, maxM0, M, dimension }
  // Level-0 records and at least a 4-byte link-list length per element.
  const least = level0End(h) + 4 * count
  if (fileBytes < least) fail('size', `the file is ${fileBytes} bytes; ${count} elements need at least ${least}`)
  return h
}

/** 32-bit views of a slice, copied when the slice is not 4-byte aligned. */
function words (bytes: Uint8Array): { u32: Uint32Array, f32: Float32Array } {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : Uint8Array.from(bytes)
  const n = aligned.length >>> 2
  return { u32: new Uint32Array(aligned.buffer, aligned.byteOffset, n), f32: new Float32Array(aligned.buffer, aligned.byteOffset, n) }
}

/**
 * Checks every element of the file, fed in order: the header, then the level-0 records in slices
 * of whole records, then the link lists. One pass, a byte of level and a byte of label mark per
 * element, so a 1M-item index is checked as it is read.
 */
export class HnswValidator {
  readonly header: HnswHeader
  private readonly labels: Uint8Array
  private next = 0

  constructor (headerBytes: Uint8Array, readonly fileBytes: number, expected: HnswExpectation) {
    this.header = checkHnswHeader(headerBytes, fileBytes, expected)
    this.labels = new Uint8Array(this.header.count)
  }

  /** The level-0 records of elements next .. next + slice / sizePerElement. */
  level0 (slice: Uint8Array): void {
    const h = this.header
    if (slice.length % h.sizePerElement !== 0) throw new RangeError('level-0 slices hold whole records')
    const { u32, f32 } = words(slice)
    const per = h.sizePerElement >>> 2
    const dataStart = h.offsetData >>> 2
    const dataEnd = h.labelOffset >>> 2
    const { count, maxM0 } = h
    for (let base = 0; base < u32.length; base += per, this.next++) {
      const e = this.next
      if (e >= count) throw new RangeError('more level-0 records than elements')
      const head = u32[base]
      const links = head & 0xffff
      if (head >>> 16 !== 0) fail('level0', `element ${e} is marked deleted or carries unknown flags (${(head >>> 16).toString(16)})`)
      if (links > maxM0) fail('level0', `element ${e} has ${links} level-0 links, more than maxM0=${maxM0}`)
      for (let j = 1; j <= links; j++) {
        if (u32[base + j] >= count) fail('level0', `element ${e} links to ${u32[base + j]}, past the last element ${count - 1}`)
      }
      for (let j = base + dataStart; j < base + dataEnd; j++) {
        // x - x is NaN exactly for NaN and +-Infinity.
        if (f32[j] - f32[j] !== 0) fail('vectors', `element ${e} holds a non-finite value`)
      }
      const lo = u32[base + dataEnd]
      if (u32[base + dataEnd + 1] !== 0 || lo >= count) fail('labels', `element ${e} has label ${u32[base + dataEnd + 1] !== 0 ? '>= 2^32' : lo}, not an item row below ${count}`)
      if (this.labels[lo] !== 0) fail('labels', `label ${lo} appears twice`)
      this.labels[lo] = 1
    }
  }

  /**
   * The link lists after the level-0 records (the rest of the file). Checks each element's level
   * against the header's maximum and entry point, and every upper-level neighbour: an id below the
   * count whose own level reaches the level it is linked at (searchKnn reads its list there).
   */
  upperLevels (tail: Uint8Array): void {
    const h = this.header
    if (this.next !== h.count) throw new RangeError('upperLevels before every level-0 record')
    if (tail.length !== this.fileBytes - level0End(h)) throw new RangeError('upperLevels takes the whole rest of the file')
    const view = new DataView(tail.buffer, tail.byteOffset, tail.length)
    const listBytes = 4 + 4 * h.maxM
    const levels = new Uint8Array(h.count)
    const starts = new Int32Array(h.count)
    let pos = 0
    let top = 0
    for (let e = 0; e < h.count; e++) {
      if (pos + 4 > tail.length) fail('links', `the file ends in element ${e}'s link lists`)
      const size = view.getUint32(pos, true)
      pos += 4
      if (size % listBytes !== 0) fail('links', `element ${e}'s link lists take ${size} bytes, not a multiple of ${listBytes}`)
      const level = size / listBytes
      if (level > h.maxLevel) fail('links', `element ${e} has level ${level}, above the index's maximum ${h.maxLevel}`)
      if (size > tail.length - pos) fail('links', `element ${e}'s link lists run past the end of the file`)
      levels[e] = level
      starts[e] = pos
      pos += size
      if (level > top) top = level
    }
    if (pos !== tail.length) fail('size', `${tail.length - pos} bytes follow the last link list`)
    if (top !== h.maxLevel) fail('maxLevel', `the header says ${h.maxLevel}, the highest element level is ${top}`)
    if (levels[h.enterPoint] !== h.maxLevel) fail('enterPoint', `element ${h.enterPoint} has level ${levels[h.enterPoint]}, not the maximum ${h.maxLevel}`)
    for (let e = 0; e < h.count; e++) {
      for (let l = 1; l <= levels[e]; l++) {
        const at = starts[e] + (l - 1) * listBytes
        const head = view.getUint32(at, true)
        const links = head & 0xffff
        if (head >>> 16 !== 0 || links > h.maxM) fail('links', `element ${e} level ${l} has a bad link count (${head})`)
        for (let j = 0; j < links; j++) {
          const to = view.getUint32(at + 4 + 4 * j, true)
          if (to >= h.count) fail('links', `element ${e} level ${l} links to ${to}, past the last element ${h.count - 1}`)
          if (levels[to] < l) fail('links', `element ${e} level ${l} links to element ${to}, whose level is ${levels[to]}`)
        }
      }
    }
  }
}

/** Validates a whole index held in memory (tests, fuzzing); returns its header. */
export function validateHnswBytes (bytes: Uint8Array, expected: HnswExpectation): HnswHeader {
  const v = new HnswValidator(bytes.subarray(0, HNSW_HEADER_BYTES), bytes.length, expected)
  const end = level0End(v.header)
  v.level0(bytes.subarray(HNSW_HEADER_BYTES, end))
  v.upperLevels(bytes.subarray(end))
  return v.header
}

/** Level-0 bytes read and checked per step: a 1M-item file is ~400 MB, checked ~16 MB at a time between turns of the event loop. */
const SLICE_BYTES = 16 * 2 ** 20

/** What identifies a file's contents for as long as nobody writes to it. */
export interface FileIdentity {
  readonly dev: number
  readonly ino: number
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
}

export function sameFile (a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs
}

/**
 * Validates the index file at `path` as it reads it (slices of whole records, so the event loop
 * turns between them); returns its header and the identity of the file it read, which the caller
 * compares after hnswlib has read the same path: a file rewritten in between is refused.
 */
export async function validateHnswFile (path: string, expected: HnswExpectation): Promise<{ header: HnswHeader, identity: FileIdentity }> {
  const fh = await open(path, 'r')
  try {
    const identity = await fh.stat()
    // One buffer for every level-0 slice: a 1M-item file is ~400 MB, read 16 MiB at a time.
    const readExactly = async (position: number, length: number, into: Buffer = Buffer.allocUnsafeSlow(length)): Promise<Uint8Array> => {
      let got = 0
      while (got < length) {
        const { bytesRead } = await fh.read(into, got, length - got, position + got)
        if (bytesRead === 0) fail('size', `the file ended after ${position + got} bytes (changed while loading?)`)
        got += bytesRead
      }
      return into.subarray(0, length)
    }
    const v = new HnswValidator(await readExactly(0, Math.min(HNSW_HEADER_BYTES, identity.size)), identity.size, expected)
    const h = v.header
    const perSlice = Math.max(1, Math.floor(SLICE_BYTES / h.sizePerElement))
    const slice = Buffer.allocUnsafeSlow(Math.min(h.count, perSlice) * h.sizePerElement)
    for (let e = 0; e < h.count; e += perSlice) {
      const n = Math.min(perSlice, h.count - e)
      v.level0(await readExactly(HNSW_HEADER_BYTES + e * h.sizePerElement, n * h.sizePerElement, slice))
    }
    const end = level0End(h)
    v.upperLevels(await readExactly(end, identity.size - end))
    return { header: h, identity }
  } finally {
    await fh.close()
  }
}
