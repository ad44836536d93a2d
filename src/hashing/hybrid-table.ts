/**
 * The resolver from an id to its embedding, shared by users and items, by the trainer and by the
 * service: one piece of code, so a model serves exactly what it was trained through.
 *
 * Frequency + double hashing (Zhang et al., Twitter, "Model Size Reduction Using Frequency Based
 * Double Hashing for Recommender Systems"): the K most frequent ids own a row; every other id, seen
 * in training or not, is the aggregate of shared rows h1(id) mod B and h2(id) mod B, with
 * h_i = MurmurHash3_x86_32(utf8(id), seed_i) taken unsigned.
 *
 * A learned id -> row mapping (the manifest's `learnedMapping`: co-clustering as in BACO, or
 * learned hash functions as in "Learning to Collide") replaces the dictionary for the ids it
 * lists: each gets one or two rows anywhere in [K dedicated | B shared], summed. Ids it does not
 * list (never seen in training) still hash into the shared rows.
 */
import { murmur3String } from './murmur3.js'
import type { TableConfig } from '../bundle-format/manifest.js'
import { U16_NO_ROW } from '../bundle-format/tensors.js'

export type Resolution = 'dedicated' | 'mapped' | 'hashed' | 'none'

/**
 * A learned mapping: listed id i uses rows[i * columns] and, when columns = 2 and the value is not
 * "no row" (-1 in an Int32Array, U16_NO_ROW in a Uint16Array, as the bundle stores them),
 * rows[i * columns + 1], rows of the conceptual table [K dedicated | B shared] (sum aggregation).
 * The loader checks every value is in range before a table is built over it.
 */
export interface RowMapping {
  readonly rows: Int32Array | Uint16Array
  readonly columns: 1 | 2
  /** The id's index in the mapping's list (its line in items.jsonl / users.jsonl), or undefined. */
  readonly indexOf: (id: string) => number | undefined
}

/** Row width of the shared part: the full dimension for sum, half of it for concatenation. */
export function sharedWidth (config: Pick<TableConfig, 'aggregation'>, dimension: number): number {
  return config.aggregation === 'concat' ? dimension / 2 : dimension
}

/** The two shared rows (0-based within the shared block) of an id. B must be > 0. */
export function sharedRows (id: string, config: Pick<TableConfig, 'sharedRows' | 'hash'>, out: Int32Array): void {
  const b = config.sharedRows
  out[0] = murmur3String(id, config.hash.seeds[0]) % b
  out[1] = murmur3String(id, config.hash.seeds[1]) % b
}

export interface HybridTableParts {
  readonly config: TableConfig
  readonly dimension: number
  /** K x dimension, row-major. */
  readonly dedicated: Float32Array
  /** B x sharedWidth, row-major. */
  readonly shared: Float32Array
  /** Dedicated row of an id, or undefined when the id has none. */
  readonly dedicatedRow: (id: string) => number | undefined
  /** A learned mapping for the ids it lists; `dedicatedRow` is not consulted for them. */
  readonly mapping?: RowMapping
}

export class HybridTable {
  readonly config: TableConfig
  readonly dimension: number
  readonly width: number
  readonly dedicated: Float32Array
  readonly shared: Float32Array
  private readonly dedicatedRow: (id: string) => number | undefined
  readonly mapping: RowMapping | undefined
  /** Column 1's "no second row" value of the mapping's dtype. */
  private readonly noRow: number
  private readonly rows = new Int32Array(2)

  constructor (parts: HybridTableParts) {
    this.config = parts.config
    this.dimension = parts.dimension
    this.width = sharedWidth(parts.config, parts.dimension)
    this.dedicated = parts.dedicated
    this.shared = parts.shared
    this.dedicatedRow = parts.dedicatedRow
    this.mapping = parts.mapping
    this.noRow = parts.mapping?.rows instanceof Uint16Array ? U16_NO_ROW : -1
    if (parts.mapping !== undefined && parts.config.aggregation !== 'sum') throw new Error('a learned mapping needs sum aggregation')
  }

  /** The rows a learned mapping gives `id` (1 or 2), or 0 when it does not list the id. */
  private mapped (id: string, out: Int32Array): number {
    const m = this.mapping!
    const i = m.indexOf(id)
    if (i === undefined) return 0
    out[0] = m.rows[i * m.columns]
    if (m.columns === 1) return 1
    const second = m.rows[i * m.columns + 1]
    if (second === this.noRow) return 1
    out[1] = second
    return 2
  }

  /**
   * Rows of the conceptual table [K dedicated | B shared] that make up `id`: writes them to `out`
   * and returns how many (1 dedicated, 2 hashed, 0 when the id has no dedicated row and B = 0;
   * 1 or 2 rows anywhere in the table for an id a learned mapping lists). The trainer updates
   * exactly these rows.
   */
  locate (id: string, out: Int32Array): number {
    if (this.mapping !== undefined) {
      const n = this.mapped(id, out)
      if (n > 0) return n
      return this.hashed(id, out)
    }
    const row = this.dedicatedRow(id)
    if (row !== undefined) { out[0] = row; return 1 }
    return this.hashed(id, out)
  }

  private hashed (id: string, out: Int32Array): number {
    if (this.config.sharedRows === 0) return 0
    sharedRows(id, this.config, out)
    const k = this.config.dedicatedRows
    out[0] += k
    out[1] += k
    return 2
  }

  /** Writes the id's vector into out[offset .. offset + dimension). Zeros when there is no signal. */
  resolveInto (id: string, out: Float32Array, offset = 0): Resolution {
    const d = this.dimension
    if (this.mapping !== undefined) {
      const n = this.mapped(id, this.rows)
      if (n > 0) {
        this.sumRows(n, out, offset)
        return 'mapped'
      }
    }
    const n = this.locate(id, this.rows)
    if (n === 1) {
      const src = this.rows[0] * d
      for (let j = 0; j < d; j++) out[offset + j] = this.dedicated[src + j]
      return 'dedicated'
    }
    if (n === 0) {
      out.fill(0, offset, offset + d)
      return 'none'
    }
    const k = this.config.dedicatedRows
    const w = this.width
    const a = (this.rows[0] - k) * w
    const b = (this.rows[1] - k) * w
    if (this.config.aggregation === 'sum') {
      for (let j = 0; j < d; j++) out[offset + j] = this.shared[a + j] + this.shared[b + j]
    } else {
      for (let j = 0; j < w; j++) {
        out[offset + j] = this.shared[a + j]
        out[offset + w + j] = this.shared[b + j]
      }
    }
    return 'hashed'
  }

  /** out = the sum of this.rows[0..n), each a dedicated row (< K) or a shared row (sum aggregation: full width). */
  private sumRows (n: number, out: Float32Array, offset: number): void {
    const d = this.dimension
    const k = this.config.dedicatedRows
    out.fill(0, offset, offset + d)
    for (let c = 0; c < n; c++) {
      const r = this.rows[c]
      const src = r < k ? this.dedicated : this.shared
      const base = (r < k ? r : r - k) * d
      for (let j = 0; j < d; j++) out[offset + j] += src[base + j]
    }
  }
}
