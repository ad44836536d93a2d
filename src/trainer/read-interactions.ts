/**
 * Streaming reader for interaction logs (CSV or TSV: user, item, optional rating, optional
 * timestamp). Ids are interned into dense ints as lines arrive and interactions go straight into
 * growable typed arrays, so memory is a few bytes per row plus one string per distinct id.
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { MAX_ID_BYTES } from '../bundle-format/manifest.js'
import { GrowableFloat32, GrowableFloat64, GrowableInt32, IdInterner } from './growable.js'

/** A log the trainer cannot use. The CLI prints the message and exits with status 2. */
export class TrainerInputError extends Error {
  override name = 'TrainerInputError'
}

export type ColumnRef = string | number

export interface ReadOptions {
  /** ',' or '\t'; 'auto' picks tab when the first line has one. */
  readonly delimiter?: ',' | '\t' | 'auto'
  /** 'auto' treats the first line as a header when it names a known column or its rating field is not a number. */
  readonly header?: 'auto' | 'yes' | 'no'
  readonly userColumn?: ColumnRef
  readonly itemColumn?: ColumnRef
  /** null: no rating column even if one exists. */
  readonly ratingColumn?: ColumnRef | null
  readonly timestampColumn?: ColumnRef | null
  /** Rows with a rating below this are dropped (not counted as bad). Needs a rating column. */
  readonly minRating?: number
  /** A run fails when more than this share of data lines is malformed. */
  readonly maxBadRowsShare?: number
  /** How many bad rows keep their line number and reason for the report. */
  readonly maxReportedBadRows?: number
}

export interface BadRow { readonly line: number, readonly reason: string }

export interface Interactions {
  readonly userIds: readonly string[]
  readonly itemIds: readonly string[]
  readonly users: Int32Array
  readonly items: Int32Array
  readonly ratings: Float32Array | null
  /** Seconds or milliseconds as in the file; only the order matters. */
  readonly timestamps: Float64Array | null
  readonly count: number
  readonly dataLines: number
  readonly badRows: number
  readonly badRowSamples: readonly BadRow[]
  /** Rows dropped by the rating threshold. */
  readonly belowThreshold: number
  readonly header: readonly string[] | null
  readonly delimiter: ',' | '\t'
}

export const DEFAULT_MAX_BAD_ROWS_SHARE = 0.01

const USER_NAMES = /^(user|userid|user_id|uid|customer|customerid|customer_id|visitor|visitorid|session|sessionid)$/i
const ITEM_NAMES = /^(item|itemid|item_id|iid|movie|movieid|movie_id|product|productid|product_id|track|trackid|book|bookid|article|articleid)$/i
const RATING_NAMES = /^(rating|ratings|score|value|weight|count|plays|playcount)$/i
const TIME_NAMES = /^(timestamp|time|ts|date|datetime|event_time|created_at)$/i

/** Splits one line; RFC 4180 quotes ("a, b" and "" escapes) on a single line. */
export function splitFields (line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter)
  const out: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') { field += '"'; i++ } else quoted = false
      } else field += ch
    } else if (ch === '"' && field.length === 0) quoted = true
    else if (ch === delimiter) { out.push(field); field = '' } else field += ch
  }
  out.push(field)
  return out
}

function parseNumber (s: string): number {
  const t = s.trim()
  return t.length === 0 ? NaN : Number(t)
}

function parseTime (s: string): number {
  const n = parseNumber(s)
  return Number.isNaN(n) ? Date.parse(s.trim()) : n
}

function looksLikeHeader (fields: string[]): boolean {
  const known = fields.some((f) => {
    const t = f.trim()
    return USER_NAMES.test(t) || ITEM_NAMES.test(t) || RATING_NAMES.test(t) || TIME_NAMES.test(t)
  })
  if (known) return true
  return fields.length >= 3 && Number.isNaN(parseNumber(fields[2]))
}

function resolveColumn (ref: ColumnRef, header: readonly string[] | null, width: number, role: string): number {
  if (typeof ref === 'number' || /^\d+$/.test(ref)) {
    const idx = Number(ref)
    if (idx >= width) throw new TrainerInputError(`${role} column ${idx} does not exist: the first line has ${width} columns`)
    return idx
  }
  if (header === null) throw new TrainerInputError(`${role} column "${ref}" named but the file has no header (use a 0-based index)`)
  const idx = header.findIndex((h) => h.trim().toLowerCase() === ref.toLowerCase())
  if (idx < 0) throw new TrainerInputError(`${role} column "${ref}" not in header [${header.join(', ')}]`)
  return idx
}

function findByName (header: readonly string[] | null, pattern: RegExp): number {
  return header === null ? -1 : header.findIndex((h) => pattern.test(h.trim()))
}

interface ColumnMap { user: number, item: number, rating: number, time: number, width: number }

function mapColumns (first: string[], header: readonly string[] | null, opts: ReadOptions): ColumnMap {
  const width = first.length
  if (width < 2) throw new TrainerInputError(`the first line has ${width} column; need at least user and item (delimiter wrong?)`)
  const pick = (ref: ColumnRef | null | undefined, pattern: RegExp, positional: number, role: string): number => {
    if (ref === null) return -1
    if (ref !== undefined) return resolveColumn(ref, header, width, role)
    const named = findByName(header, pattern)
    if (named >= 0) return named
    return positional < width ? positional : -1
  }
  const user = pick(opts.userColumn, USER_NAMES, 0, 'user')
  const item = pick(opts.itemColumn, ITEM_NAMES, 1, 'item')
  const rating = pick(opts.ratingColumn, RATING_NAMES, 2, 'rating')
  const time = pick(opts.timestampColumn, TIME_NAMES, 3, 'timestamp')
  if (user < 0 || item < 0) throw new TrainerInputError('could not find the user and item columns')
  if (user === item) throw new TrainerInputError('user and item columns are the same')
  return { user, item, rating, time, width }
}

const utf8 = new TextEncoder()

function idProblem (id: string, role: string): string | null {
  if (id.length === 0) return `empty ${role} id`
  if (id.length * 3 > MAX_ID_BYTES && utf8.encode(id).length > MAX_ID_BYTES) return `${role} id longer than ${MAX_ID_BYTES} bytes`
  return null
}

/** Reads a log from any async line source (a file via `readInteractions`, or strings in tests). */
export async function readInteractionLines (lines: AsyncIterable<string> | Iterable<string>, opts: ReadOptions = {}): Promise<Interactions> {
  const maxShare = opts.maxBadRowsShare ?? DEFAULT_MAX_BAD_ROWS_SHARE
  const maxReported = opts.maxReportedBadRows ?? 20
  const users = new IdInterner()
  const items = new IdInterner()
  const u = new GrowableInt32(1 << 16)
  const it = new GrowableInt32(1 << 16)
  const r = new GrowableFloat32(1 << 16)
  const t = new GrowableFloat64(1 << 16)
  const samples: BadRow[] = []
  let bad = 0
  let below = 0
  let dataLines = 0
  let lineNo = 0
  let cols: ColumnMap | null = null
  let header: string[] | null = null
  let delimiter: ',' | '\t' = ','
  const reportBad = (reason: string): void => {
    bad++
    if (samples.length < maxReported) samples.push({ line: lineNo, reason })
  }
  for await (const raw of lines) {
    lineNo++
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1) // UTF-8 BOM (spreadsheet exports)
    if (line.trim().length === 0) continue
    if (cols === null) {
      delimiter = opts.delimiter === undefined || opts.delimiter === 'auto' ? (line.includes('\t') ? '\t' : ',') : opts.delimiter
      const fields = splitFields(line, delimiter)
      const isHeader = opts.header === 'yes' || (opts.header !== 'no' && looksLikeHeader(fields))
      if (isHeader) header = fields.map((f) => f.trim())
      cols = mapColumns(fields, header, opts)
      if (opts.minRating !== undefined && cols.rating < 0) throw new TrainerInputError('--min-rating needs a rating column')
      if (isHeader) continue
    }
    dataLines++
    const fields = splitFields(line, delimiter)
    const needed = Math.max(cols.user, cols.item, cols.rating, cols.time) + 1
    if (fields.length < needed) { reportBad(`${fields.length} columns, expected ${cols.width}`); continue }
    const userId = fields[cols.user].trim()
    const itemId = fields[cols.item].trim()
    const problem = idProblem(userId, 'user') ?? idProblem(itemId, 'item')
    if (problem !== null) { reportBad(problem); continue }
    let rating = 1
    if (cols.rating >= 0) {
      rating = parseNumber(fields[cols.rating])
      if (!Number.isFinite(rating)) { reportBad(`rating "${fields[cols.rating]}" is not a number`); continue }
    }
    let time = 0
    if (cols.time >= 0) {
      time = parseTime(fields[cols.time])
      if (!Number.isFinite(time)) { reportBad(`timestamp "${fields[cols.time]}" is not a number or date`); continue }
    }
    if (opts.minRating !== undefined && rating < opts.minRating) { below++; continue }
    u.push(users.intern(userId))
    it.push(items.intern(itemId))
    if (cols.rating >= 0) r.push(rating)
    if (cols.time >= 0) t.push(time)
  }
  if (cols === null || dataLines === 0) throw new TrainerInputError('the input has no data rows')
  if (bad > maxShare * dataLines) {
    const shown = samples.slice(0, 5).map((s) => `line ${s.line}: ${s.reason}`).join('; ')
    throw new TrainerInputError(`${bad} of ${dataLines} data rows are malformed (${(100 * bad / dataLines).toFixed(2)}%, above the allowed ${(100 * maxShare).toFixed(2)}%): ${shown}`)
  }
  if (u.length === 0) throw new TrainerInputError(`no interactions left (${below} rows below the rating threshold)`)
  return {
    userIds: users.ids,
    itemIds: items.ids,
    users: u.toArray(),
    items: it.toArray(),
    ratings: cols.rating >= 0 ? r.toArray() : null,
    timestamps: cols.time >= 0 ? t.toArray() : null,
    count: u.length,
    dataLines,
    badRows: bad,
    badRowSamples: samples,
    belowThreshold: below,
    header,
    delimiter,
  }
}

/** Streams a CSV/TSV file from disk. */
export async function readInteractions (path: string, opts: ReadOptions = {}): Promise<Interactions> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })
  const rl = createInterface({ input: stream, crlfDelay: Infinity })
  try {
    return await readInteractionLines(rl, opts)
  } finally {
    rl.close()
    stream.destroy()
  }
}
