/**
 * The rows a search may return: the eligible set a request's filters (tags, allow lists) and the
 * catalog's rules (availability) leave. Engines filter inside the search, so a filter never
 * shrinks a result below min(k, eligible rows not excluded): the multi-index tables and the linear
 * scan skip ineligible rows through their bitmap, HNSW widens its breadth (or asks hnswlib's filter
 * callback), and a small set is searched exactly over its rows alone.
 *
 * Two representations, each made from the other on first use: a bitmap (bit r & 7 of byte r >> 3,
 * set = eligible; whole 32-bit words, so it can be read a word at a time) and the ascending list
 * of rows. A filter is immutable once made; engines key per-filter state on the object.
 */
import { popcount32 } from './top-k.js'

export class RowFilter {
  readonly itemCount: number
  /** Eligible rows. */
  readonly count: number
  private bitmap: Uint8Array | null
  private list: Int32Array | null
  private complement: Uint8Array | null = null

  private constructor (itemCount: number, count: number, bitmap: Uint8Array | null, list: Int32Array | null) {
    this.itemCount = itemCount
    this.count = count
    this.bitmap = bitmap
    this.list = list
  }

  /** Bytes of a bitmap over `itemCount` rows: whole 32-bit words. */
  static bitmapBytes (itemCount: number): number {
    return Math.ceil(itemCount / 32) * 4
  }

  /** A filter over the set bits of `bits` (taken, not copied; bits at and past itemCount are cleared). */
  static fromBits (bits: Uint8Array, itemCount: number): RowFilter {
    if (bits.length < RowFilter.bitmapBytes(itemCount)) throw new RangeError(`a bitmap over ${itemCount} rows needs ${RowFilter.bitmapBytes(itemCount)} bytes, got ${bits.length}`)
    // Read a word at a time: a view at an odd offset is copied once.
    if ((bits.byteOffset & 3) !== 0) bits = bits.slice()
    const words = new Uint32Array(bits.buffer, bits.byteOffset, RowFilter.bitmapBytes(itemCount) / 4)
    const tail = itemCount & 31
    if (tail !== 0) words[words.length - 1] &= (1 << tail) - 1
    bits.fill(0, words.length * 4)
    let count = 0
    for (let w = 0; w < words.length; w++) count += popcount32(words[w])
    return new RowFilter(itemCount, count, bits, null)
  }

  /** A filter over `rows` (any order, repeats and rows outside [0, itemCount) dropped). */
  static fromRows (rows: ArrayLike<number>, itemCount: number): RowFilter {
    const sorted = Int32Array.from(rows).sort()
    let n = 0
    for (let i = 0; i < sorted.length; i++) {
      const r = sorted[i]
      if (r < 0 || r >= itemCount || (n > 0 && sorted[n - 1] === r)) continue
      sorted[n++] = r
    }
    return new RowFilter(itemCount, n, null, n === sorted.length ? sorted : sorted.slice(0, n))
  }

  /** Every row of the catalog. */
  static all (itemCount: number): RowFilter {
    const bits = new Uint8Array(RowFilter.bitmapBytes(itemCount)).fill(0xff)
    return RowFilter.fromBits(bits, itemCount)
  }

  get bits (): Uint8Array {
    if (this.bitmap === null) {
      const bits = new Uint8Array(RowFilter.bitmapBytes(this.itemCount))
      const list = this.list!
      for (let i = 0; i < list.length; i++) bits[list[i] >> 3] |= 1 << (list[i] & 7)
      this.bitmap = bits
    }
    return this.bitmap
  }

  /** The eligible rows, ascending. */
  get rows (): Int32Array {
    if (this.list === null) {
      const list = new Int32Array(this.count)
      const words = this.words()
      let n = 0
      for (let w = 0; w < words.length; w++) {
        let x = words[w]
        while (x !== 0) {
          const low = x & -x
          list[n++] = (w << 5) + 31 - Math.clz32(low)
          x ^= low
        }
      }
      this.list = list
    }
    return this.list
  }

  has (row: number): boolean {
    if (this.bitmap !== null) return row >= 0 && row < this.itemCount && ((this.bitmap[row >> 3] >> (row & 7)) & 1) === 1
    return indexOfSorted(this.list!, row) >= 0
  }

  /** Rows eligible in both. A filter given as rows stays a list (an allow list of a few ids never needs a bitmap). */
  and (other: RowFilter): RowFilter {
    if (other.itemCount !== this.itemCount) throw new RangeError(`filters over ${this.itemCount} and ${other.itemCount} rows`)
    const [small, large] = this.count <= other.count ? [this, other] : [other, this]
    if (small.bitmap === null || large.bitmap === null) {
      const rows = small.rows
      const kept = new Int32Array(rows.length)
      let n = 0
      for (let i = 0; i < rows.length; i++) if (large.has(rows[i])) kept[n++] = rows[i]
      return new RowFilter(this.itemCount, n, null, kept.slice(0, n))
    }
    const a = this.words()
    const b = other.words()
    const out = new Uint32Array(a.length)
    for (let w = 0; w < a.length; w++) out[w] = a[w] & b[w]
    return RowFilter.fromBits(new Uint8Array(out.buffer), this.itemCount)
  }

  /**
   * Writes the complement (set = not eligible) into `target`, a bitmap of (itemCount + 7) >> 3
   * bytes: the engines' skip bitmaps. The complement is made once per filter and copied (a memcpy):
   * under traffic that alternates between filters a scan or the tables rewrite their bitmap on
   * every query, and a word-by-word inversion of a 1M-item bitmap cost ~15-20 µs each time.
   */
  complementInto (target: Uint8Array): void {
    if (this.complement === null) {
      const bytes = (this.itemCount + 7) >> 3
      const src = this.bits
      const out = new Uint8Array(bytes)
      for (let i = 0; i < bytes; i++) out[i] = ~src[i] & 0xff
      // Rows past the catalog are never read; keep them clear rather than "excluded".
      const tail = this.itemCount & 7
      if (tail !== 0) out[bytes - 1] &= (1 << tail) - 1
      this.complement = out
    }
    target.set(this.complement)
  }

  private words (): Uint32Array {
    const bits = this.bits
    return new Uint32Array(bits.buffer, bits.byteOffset, RowFilter.bitmapBytes(this.itemCount) / 4)
  }
}

/** Position of `value` in the ascending `list`, or -1. */
export function indexOfSorted (list: Int32Array, value: number): number {
  let lo = 0
  let hi = list.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = list[mid]
    if (v === value) return mid
    if (v < value) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}
