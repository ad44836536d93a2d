/**
 * Dense internal rows for external string ids, read straight from the bundle's JSON Lines bytes.
 *
 * A million-item catalog as JS objects (JSON.parse + a Map) cost ~3 s and ~1 GB of short-lived
 * garbage at load (measured on the synthetic 1M bundle), most of the load time. Instead the raw
 * bytes stay in one Buffer: a strict byte-level scan validates every line and records where each
 * id (and title, tags) sits; ids go into an open-addressing table of rows keyed by MurmurHash3 of
 * their UTF-8 bytes. Strings are made only for the ids and titles a response actually returns.
 */
import { isUtf8 } from 'node:buffer'
import { murmur3x86_32 } from '../hashing/murmur3.js'
import { runAll, runInSlices } from '../util/steps.js'

/** What the service needs of an id list: row of an id, id of a row. */
export interface IdIndex {
  readonly size: number
  rowOf (id: string): number | undefined
  idAt (row: number): string
}

export interface ItemMetaIndex {
  title (row: number): string | undefined
  tags (row: number): readonly string[] | undefined
}

export class IdListError extends Error {
  override name = 'IdListError'
  readonly field: string | undefined
  constructor (message: string, field?: string) {
    super(message)
    this.field = field
  }
}

export interface IdListLimits {
  readonly maxIdBytes: number
  /** Title and each tag: at most this many UTF-8 bytes as written in the file. */
  readonly maxTitleBytes: number
  readonly maxTagBytes: number
  readonly maxTags: number
}

const SEED = 0x9747b28c
const QUOTE = 0x22
const BACKSLASH = 0x5c
const NEWLINE = 0x0a
const encoder = new TextEncoder()

const KEY_ID = Buffer.from('id')
const KEY_TITLE = Buffer.from('title')
const KEY_TAGS = Buffer.from('tags')

function isSpace (b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d
}

function bytesEqual (a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aStart + i] !== b[bStart + i]) return false
  return true
}

/** Decodes the contents of a JSON string span (without quotes). */
function decodeString (bytes: Buffer, start: number, end: number, escaped: boolean): string {
  return escaped ? JSON.parse(`"${bytes.toString('utf8', start, end)}"`) as string : bytes.toString('utf8', start, end)
}

/**
 * One line's strict parse: an object whose keys are among the allowed ones, each at most once;
 * `id` and `title` are strings, `tags` an array of strings. Records spans, allocates nothing.
 */
class LineScanner {
  pos = 0
  end = 0
  idStart = -1
  idEnd = -1
  idEscaped = false
  titleStart = -1
  titleEnd = -1
  titleEscaped = false
  tagsStart = -1
  tagsEnd = -1
  tagCount = 0
  tagsEscaped = false
  strStart = 0
  strEnd = 0
  strEscaped = false

  constructor (private readonly b: Buffer, private readonly allowMeta: boolean, private readonly limits: IdListLimits) {}

  fail (what: string): never {
    throw new IdListError(what)
  }

  skipSpace (): void {
    while (this.pos < this.end && isSpace(this.b[this.pos])) this.pos++
  }

  expect (ch: number, what: string): void {
    this.skipSpace()
    if (this.b[this.pos] !== ch || this.pos >= this.end) this.fail(`not valid JSON: expected ${what}`)
    this.pos++
  }

  /** Scans a JSON string starting at the opening quote; sets strStart/strEnd/strEscaped. */
  string (): void {
    const b = this.b
    if (b[this.pos] !== QUOTE || this.pos >= this.end) this.fail('not valid JSON: expected a string')
    this.pos++
    this.strStart = this.pos
    this.strEscaped = false
    while (this.pos < this.end) {
      const c = b[this.pos]
      if (c === QUOTE) {
        this.strEnd = this.pos
        this.pos++
        return
      }
      if (c < 0x20) this.fail('not valid JSON: control character in a string')
      if (c === BACKSLASH) {
        this.strEscaped = true
        const e = b[this.pos + 1]
        if (e === 0x75) { // \uXXXX
          for (let k = 2; k < 6; k++) {
            const h = b[this.pos + k]
            const hex = (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66)
            if (!hex || this.pos + k >= this.end) this.fail('not valid JSON: bad \\u escape')
          }
          this.pos += 6
          continue
        }
        if (!(e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) this.fail('not valid JSON: bad escape')
        this.pos += 2
        continue
      }
      this.pos++
    }
    this.fail('not valid JSON: unterminated string')
  }

  keyIs (key: Buffer): boolean {
    return !this.strEscaped && this.strEnd - this.strStart === key.length && bytesEqual(this.b, this.strStart, key, 0, key.length)
  }

  /**
   * Parses the line starting at `start` in a file of `end` bytes and returns where it ends (its
   * newline, or `end`). Strings cannot hold a raw newline and whitespace here excludes it, so the
   * parse itself finds the end of the line: no separate search for it (a native indexOf call per
   * line measured ~0.1 s on a 1M-line catalog).
   */
  line (start: number, end: number): number {
    this.pos = start
    this.end = end
    this.idStart = this.titleStart = this.tagsStart = -1
    this.tagCount = 0
    this.expect(0x7b, '{')
    this.skipSpace()
    if (this.b[this.pos] === 0x7d) this.fail('missing "id"')
    for (;;) {
      this.skipSpace()
      this.string()
      let field: 'id' | 'title' | 'tags'
      if (this.keyIs(KEY_ID)) field = 'id'
      else if (this.allowMeta && this.keyIs(KEY_TITLE)) field = 'title'
      else if (this.allowMeta && this.keyIs(KEY_TAGS)) field = 'tags'
      else throw new IdListError(`unknown field ${JSON.stringify(decodeString(this.b, this.strStart, this.strEnd, this.strEscaped))}`)
      this.expect(0x3a, ':')
      this.skipSpace()
      if (field === 'tags') {
        if (this.tagsStart !== -1) this.fail('duplicate field "tags"')
        this.tags()
      } else {
        if (this.b[this.pos] !== QUOTE) throw new IdListError(`${field} must be a string`, field)
        this.string()
        if (field === 'id') {
          if (this.idStart !== -1) this.fail('duplicate field "id"')
          this.idStart = this.strStart
          this.idEnd = this.strEnd
          this.idEscaped = this.strEscaped
        } else {
          if (this.titleStart !== -1) this.fail('duplicate field "title"')
          if (this.strEnd - this.strStart > this.limits.maxTitleBytes) throw new IdListError(`title must be at most ${this.limits.maxTitleBytes} bytes`, 'title')
          this.titleStart = this.strStart
          this.titleEnd = this.strEnd
          this.titleEscaped = this.strEscaped
        }
      }
      this.skipSpace()
      const c = this.b[this.pos]
      if (this.pos < this.end && c === 0x2c) { this.pos++; continue }
      if (this.pos < this.end && c === 0x7d) { this.pos++; break }
      this.fail('not valid JSON: expected , or }')
    }
    this.skipSpace()
    if (this.pos !== this.end && this.b[this.pos] !== NEWLINE) this.fail('not valid JSON: text after the object (one object per line)')
    if (this.idStart === -1) throw new IdListError('missing "id"', 'id')
    return this.pos
  }

  tags (): void {
    this.tagsStart = this.pos
    this.tagsEscaped = false
    this.expect(0x5b, 'an array of strings for tags')
    this.skipSpace()
    if (this.b[this.pos] === 0x5d) { this.pos++; this.tagsEnd = this.pos; return }
    for (;;) {
      this.skipSpace()
      if (this.b[this.pos] !== QUOTE) throw new IdListError('tags must be an array of strings', 'tags')
      this.string()
      if (this.strEnd - this.strStart > this.limits.maxTagBytes) throw new IdListError(`each tag must be at most ${this.limits.maxTagBytes} bytes`, 'tags')
      this.tagsEscaped ||= this.strEscaped
      if (++this.tagCount > this.limits.maxTags) throw new IdListError(`at most ${this.limits.maxTags} tags`, 'tags')
      this.skipSpace()
      const c = this.b[this.pos]
      if (this.pos < this.end && c === 0x2c) { this.pos++; continue }
      if (this.pos < this.end && c === 0x5d) { this.pos++; break }
      this.fail('not valid JSON: expected , or ] in tags')
    }
    this.tagsEnd = this.pos
  }
}

/** The closing quote of a JSON string body starting at `p` with no escapes or control bytes, or -1. */
function plainStringEnd (b: Uint8Array, p: number, total: number): number {
  for (; p < total; p++) {
    const c = b[p]
    if (c === QUOTE) return p
    if (c < 0x20 || c === BACKSLASH) return -1
  }
  return -1
}

/**
 * The scan of the common line shape, `{"id":"..."}` or `{"id":"...","title":"..."}` with no
 * escapes, no whitespace and no tags: what our writer and compact JSON writers emit. A tight loop
 * over locals instead of LineScanner's per-byte field accesses: the whole 1M-line parse went from
 * ~0.45-0.7 s to ~0.3 s (bench/model-loader/ids-only.ts on the shared 2-core machine).
 * It only accepts, never refuses: anything else (or anything over a limit) returns -1 and the
 * line goes through LineScanner, so every error message comes from one place. Returns the line's
 * end like LineScanner.line and leaves id start/end, title start/end (-1 when absent) in `out`.
 */
function scanCommonLine (b: Uint8Array, start: number, total: number, allowTitle: boolean, maxTitleBytes: number, out: Int32Array): number {
  let p = start
  // {"id":" spelled out: comparing against constants measured faster than a loop over a key Buffer.
  if (p + 7 > total || b[p] !== 0x7b || b[p + 1] !== 0x22 || b[p + 2] !== 0x69 || b[p + 3] !== 0x64 || b[p + 4] !== 0x22 || b[p + 5] !== 0x3a || b[p + 6] !== 0x22) return -1
  p += 7
  const idStart = p
  p = plainStringEnd(b, p, total)
  if (p === -1) return -1
  const idEnd = p++
  let titleStart = -1
  let titleEnd = -1
  if (p < total && b[p] === 0x2c) {
    // ,"title":"
    if (!allowTitle || p + 10 > total || b[p + 1] !== 0x22 || b[p + 2] !== 0x74 || b[p + 3] !== 0x69 || b[p + 4] !== 0x74 || b[p + 5] !== 0x6c || b[p + 6] !== 0x65 || b[p + 7] !== 0x22 || b[p + 8] !== 0x3a || b[p + 9] !== 0x22) return -1
    p += 10
    titleStart = p
    p = plainStringEnd(b, p, total)
    if (p === -1) return -1
    titleEnd = p++
    if (titleEnd - titleStart > maxTitleBytes) return -1
  }
  if (p >= total || b[p] !== 0x7d) return -1
  p++
  if (p !== total && b[p] !== NEWLINE) return -1
  out[0] = idStart
  out[1] = idEnd
  out[2] = titleStart
  out[3] = titleEnd
  return p
}

/** Thrown with the 1-based line a problem is on. */
export class IdListLineError extends IdListError {
  readonly line: number
  constructor (line: number, cause: IdListError) {
    super(`line ${line}: ${cause.message}`, cause.field)
    this.line = line
  }
}

/** An id of 0 or more than maxIdBytes UTF-8 bytes on row `row` is refused, naming its line. */
function checkIdBytes (row: number, len: number, maxIdBytes: number): void {
  if (len === 0 || len > maxIdBytes) throw new IdListLineError(row + 1, new IdListError(`id must be 1..${maxIdBytes} UTF-8 bytes`, 'id'))
}

/**
 * Row numbers ordered by home slot (hash & mask), with their hashes in the same order: an LSD
 * radix sort. Digits of at most 12 bits (two passes of 11 for a 1M catalog's 2M slots): 16-bit
 * digits scattered each pass over 65536 places and missed cache on most writes. The hashes travel
 * with the rows, so each pass, and the table fill after it, reads them in order rather than at
 * random.
 */
function * sortBySlot (hashes: Uint32Array, mask: number): Generator<void, { order: Int32Array, sorted: Uint32Array }> {
  const n = hashes.length
  const bits = 32 - Math.clz32(mask)
  const passes = Math.max(1, Math.ceil(bits / 12))
  const digitBits = Math.ceil(bits / passes)
  const digitMask = (1 << digitBits) - 1
  let keys = hashes.slice()
  let order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let otherKeys = new Uint32Array(n)
  let other = new Int32Array(n)
  const counts = new Int32Array(1 << digitBits)
  for (let p = 0, shift = 0; p < passes; p++, shift += digitBits) {
    counts.fill(0)
    for (let i = 0; i < n; i++) counts[((keys[i] & mask) >>> shift) & digitMask]++
    let sum = 0
    for (let d = 0; d < counts.length; d++) { const c = counts[d]; counts[d] = sum; sum += c }
    for (let i = 0; i < n; i++) {
      const k = keys[i]
      const to = counts[((k & mask) >>> shift) & digitMask]++
      otherKeys[to] = k
      other[to] = order[i]
    }
    const tk = keys; keys = otherKeys; otherKeys = tk
    const t = order; order = other; other = t
    yield
  }
  return { order, sorted: keys }
}

/** Rows the hash table fill inserts between pauses of a sliced parse. */
const FILL_SLICE = 131_072

export class JsonlIdIndex implements IdIndex, ItemMetaIndex {
  readonly size: number
  private readonly bytes: Buffer
  /** The same bytes as a plain Uint8Array: hashing and comparing then see one array shape (a Buffer and the scratch Uint8Array made those call sites polymorphic). */
  private readonly raw: Uint8Array
  private readonly idStart: Int32Array
  private readonly idEnd: Int32Array
  /** Open addressing, [row, hash] pairs side by side so a probe touches one cache line. */
  private readonly table: Int32Array
  private readonly mask: number
  /** Rows whose id had JSON escapes: the decoded id (rare; compared as strings). */
  private readonly escapedIds = new Map<number, string>()
  private readonly idCache: (string | undefined)[]
  private readonly meta: { start: Int32Array, end: Int32Array, escaped: Uint8Array, tagsStart: Int32Array, tagsEnd: Int32Array } | null
  private readonly titleCache: (string | undefined)[]
  private scratch = new Uint8Array(1024)
  /** The parse in progress: scanner, per-row hashes and where the next line starts (null once done). */
  private pending: { scanner: LineScanner, hashes: Uint32Array, row: number, start: number, fastPath: boolean, limits: IdListLimits } | null

  /**
   * Parses `bytes` (one JSON object per line) into an index. Throws IdListError naming the line
   * for malformed JSON, unknown fields, ids that are empty or too long, and duplicate ids.
   */
  constructor (bytes: Buffer, expected: number, allowMeta: boolean, limits: IdListLimits, fastPath = true, deferred = false) {
    if (!isUtf8(bytes)) throw new IdListError('not valid UTF-8')
    this.bytes = bytes
    this.raw = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const n = expected
    this.size = n
    this.idStart = new Int32Array(n)
    this.idEnd = new Int32Array(n)
    let capacity = 2
    while (capacity < n * 2) capacity *= 2
    this.table = new Int32Array(capacity * 2).fill(-1)
    this.mask = capacity - 1
    this.idCache = new Array(n)
    this.titleCache = new Array(n)
    this.meta = allowMeta ? { start: new Int32Array(n).fill(-1), end: new Int32Array(n), escaped: new Uint8Array(n), tagsStart: new Int32Array(n).fill(-1), tagsEnd: new Int32Array(n) } : null

    this.pending = { scanner: new LineScanner(bytes, allowMeta, limits), hashes: new Uint32Array(n), row: 0, start: 0, fastPath, limits }
    if (!deferred) runAll(this.steps(Infinity))
  }

  /**
   * Parses in steps of `rowsPerStep` lines (then the hash table's sort passes and fill slices),
   * calling `pause()` whenever `sliceMs` have passed since the last, so a reload's parse of a
   * 1M-line list does not hold the event loop in one piece. Same index and the same errors as
   * the constructor.
   */
  static async parse (bytes: Buffer, expected: number, allowMeta: boolean, limits: IdListLimits, pause: () => Promise<void>, slicing: { rowsPerStep?: number, sliceMs?: number } = {}): Promise<JsonlIdIndex> {
    const rowsPerStep = slicing.rowsPerStep ?? 4096
    const sliceMs = slicing.sliceMs ?? 10
    const index = new JsonlIdIndex(bytes, expected, allowMeta, limits, true, true)
    // Pause by elapsed time, not by rows: the first steps run before the scanner is optimised and
    // took 80 ms for 131k lines against 12 ms once warm.
    await runInSlices(index.steps(rowsPerStep), pause, sliceMs)
    return index
  }

  /** The whole parse: lines `rowsPerStep` at a time, then the hash table (see finish). */
  private * steps (rowsPerStep: number): Generator<void, void> {
    while (!this.scanLines(rowsPerStep)) yield
    yield * this.finish()
  }

  /** Parses up to `maxRows` more lines from where the last call stopped; true once every byte is parsed. */
  private scanLines (maxRows: number): boolean {
    const state = this.pending!
    const { scanner, hashes, fastPath, limits } = state
    const n = this.size
    const allowMeta = this.meta !== null
    // Locals, not fields, in the per-line loop: V8 reloads a field after every call it cannot
    // prove harmless.
    const raw = this.raw
    const idStarts = this.idStart
    const idEnds = this.idEnd
    const titleStarts = this.meta?.start
    const titleEnds = this.meta?.end
    const spans = new Int32Array(4)
    const maxIdBytes = limits.maxIdBytes
    const maxTitleBytes = limits.maxTitleBytes
    let row = state.row
    let start = state.start
    const stopRow = row + maxRows
    const total = raw.length
    while (start < total) {
      if (row >= n) throw new IdListError(`has more than the ${n} entries the manifest counts`)
      if (row >= stopRow) break
      const fastEnd = fastPath ? scanCommonLine(raw, start, total, allowMeta, maxTitleBytes, spans) : -1
      if (fastEnd !== -1) {
        const idStart = spans[0]
        const idEnd = spans[1]
        const len = idEnd - idStart
        checkIdBytes(row, len, maxIdBytes)
        idStarts[row] = idStart
        idEnds[row] = idEnd
        hashes[row] = murmur3x86_32(raw, SEED, idStart, len)
        if (titleStarts && titleEnds) {
          titleStarts[row] = spans[2]
          titleEnds[row] = spans[3]
        }
        row++
        start = fastEnd + 1
        continue
      }
      let end: number
      try {
        end = scanner.line(start, total)
      } catch (err) {
        if (err instanceof IdListError) throw new IdListLineError(row + 1, err)
        throw err
      }
      hashes[row] = this.idHash(row, scanner, limits.maxIdBytes)
      if (this.meta) {
        this.meta.start[row] = scanner.titleStart
        this.meta.end[row] = scanner.titleEnd
        this.meta.escaped[row] = (scanner.titleEscaped ? 1 : 0) | (scanner.tagsEscaped ? 2 : 0)
        this.meta.tagsStart[row] = scanner.tagsStart
        this.meta.tagsEnd[row] = scanner.tagsEnd
      }
      row++
      start = end + 1
    }
    state.row = row
    state.start = start
    return start >= total
  }

  /** After the last line: the count check and the hash table, in steps (each sort pass, then slices of the fill). */
  private * finish (): Generator<void, void> {
    const state = this.pending!
    if (state.row !== this.size) throw new IdListError(`has ${state.row} entries, the manifest counts ${this.size}`)
    yield * this.fillTable(state.hashes)
    this.pending = null
  }

  /** Records where row's id is and returns the hash of its UTF-8 bytes. */
  private idHash (row: number, s: LineScanner, maxIdBytes: number): number {
    this.idStart[row] = s.idStart
    this.idEnd[row] = s.idEnd
    if (s.idEscaped) {
      const id = decodeString(this.bytes, s.idStart, s.idEnd, true)
      const len = this.encode(id)
      checkIdBytes(row, len, maxIdBytes)
      this.escapedIds.set(row, id)
      return murmur3x86_32(this.scratch, SEED, 0, len)
    }
    const len = s.idEnd - s.idStart
    checkIdBytes(row, len, maxIdBytes)
    return murmur3x86_32(this.raw, SEED, s.idStart, len)
  }

  /**
   * Inserts every row in order of its home slot, so linear probing walks the table front to back
   * instead of jumping around 16 MB at random (one cache miss per id, measured as the largest cost
   * of loading a 1M catalog). Duplicates are found on the way; the one reported is the earliest in
   * the file, as a line-by-line check would report it.
   */
  private * fillTable (hashes: Uint32Array): Generator<void, void> {
    const { order, sorted } = yield * sortBySlot(hashes, this.mask)
    const { table, mask, raw, idStart, idEnd } = this
    const anyEscaped = this.escapedIds.size > 0
    let dupRow = -1
    let dupOf = -1
    for (let k = 0; k < order.length; k++) {
      if ((k + 1) % FILL_SLICE === 0) yield
      const row = order[k]
      const hash = sorted[k]
      if (!anyEscaped) {
        // The common case in one probe: the walk that looks for a duplicate ends at the empty
        // slot the row goes into (find() and then a second walk measured ~40% slower). The row's
        // id span is looked up only on a hash match: rows come in slot order, not row order, so
        // each lookup would be a cache miss.
        const h = hash | 0
        let slot = hash & mask
        let dup = -1
        for (;;) {
          const other = table[slot * 2]
          if (other === -1) break
          if (table[slot * 2 + 1] === h) {
            const start = idStart[row]
            const len = idEnd[row] - start
            if (idEnd[other] - idStart[other] === len && bytesEqual(raw, idStart[other], raw, start, len)) { dup = other; break }
          }
          slot = (slot + 1) & mask
        }
        if (dup === -1) {
          table[slot * 2] = row
          table[slot * 2 + 1] = h
        } else {
          const later = Math.max(row, dup)
          if (dupRow === -1 || later < dupRow) { dupRow = later; dupOf = Math.min(row, dup) }
        }
        continue
      }
      const dup = this.escapedIds.has(row)
        ? this.find(hash, this.scratch, this.encode(this.escapedIds.get(row)!))
        : this.find(hash, this.raw, this.idEnd[row] - this.idStart[row], this.idStart[row])
      if (dup !== -1) {
        const later = Math.max(row, dup)
        if (dupRow === -1 || later < dupRow) { dupRow = later; dupOf = Math.min(row, dup) }
        continue
      }
      let slot = hash & this.mask
      while (this.table[slot * 2] !== -1) slot = (slot + 1) & this.mask
      this.table[slot * 2] = row
      this.table[slot * 2 + 1] = hash | 0
    }
    if (dupRow !== -1) throw new IdListLineError(dupRow + 1, new IdListError(`duplicate id ${JSON.stringify(this.idAt(dupOf))} (also on line ${dupOf + 1})`, 'id'))
  }

  private encode (id: string): number {
    if (id.length * 3 > this.scratch.length) this.scratch = new Uint8Array(id.length * 3)
    // ASCII ids (the usual) are copied here: TextEncoder.encodeInto costs ~0.1 µs of call
    // overhead per id, which a user's 200-item history pays 200 times per recommendation.
    const out = this.scratch
    const n = id.length
    for (let i = 0; i < n; i++) {
      const c = id.charCodeAt(i)
      if (c >= 0x80) return encoder.encodeInto(id, out).written
      out[i] = c
    }
    return n
  }

  /** Row whose id has these UTF-8 bytes, or -1. */
  private find (hash: number, src: Uint8Array, len: number, srcStart = 0): number {
    let slot = hash & this.mask
    const h = hash | 0
    for (;;) {
      const row = this.table[slot * 2]
      if (row === -1) return -1
      if (this.table[slot * 2 + 1] === h) {
        const escaped = this.escapedIds.get(row)
        if (escaped === undefined) {
          if (this.idEnd[row] - this.idStart[row] === len && bytesEqual(this.raw, this.idStart[row], src, srcStart, len)) return row
        } else {
          const bytes = encoder.encode(escaped)
          if (bytes.length === len && bytesEqual(bytes, 0, src, srcStart, len)) return row
        }
      }
      slot = (slot + 1) & this.mask
    }
  }

  rowOf (id: string): number | undefined {
    const len = this.encode(id)
    const row = this.find(murmur3x86_32(this.scratch, SEED, 0, len), this.scratch, len)
    return row === -1 ? undefined : row
  }

  idAt (row: number): string {
    let id = this.idCache[row]
    if (id === undefined) {
      id = this.escapedIds.get(row) ?? this.bytes.toString('utf8', this.idStart[row], this.idEnd[row])
      this.idCache[row] = id
    }
    return id
  }

  title (row: number): string | undefined {
    const m = this.meta
    if (!m || m.start[row] === -1) return undefined
    let t = this.titleCache[row]
    if (t === undefined) {
      t = decodeString(this.bytes, m.start[row], m.end[row], (m.escaped[row] & 1) !== 0)
      this.titleCache[row] = t
    }
    return t
  }

  tags (row: number): readonly string[] | undefined {
    const m = this.meta
    if (!m || m.tagsStart[row] === -1) return undefined
    return JSON.parse(this.bytes.toString('utf8', m.tagsStart[row], m.tagsEnd[row])) as string[]
  }
}
