/**
 * Shared pieces of the engines: a bounded heap for float scores with the house tie rule (equal
 * score: lower row first), popcount, and the result shape.
 */
import type { ExcludeSet, TopK } from './types.js'

export const EMPTY_TOP_K: TopK = Object.freeze({ rows: new Int32Array(0), scores: new Float32Array(0), candidatesExamined: 0 })

export function popcount32 (x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24
}

/** Hamming distance between item `row` of `codes` and `query` (both codeWords words per code). */
export function hammingDistance (codes: Uint32Array, row: number, codeWords: number, query: Uint32Array): number {
  let d = 0
  const base = row * codeWords
  for (let w = 0; w < codeWords; w++) d += popcount32(codes[base + w] ^ query[w])
  return d
}

/**
 * Keeps the k best (score, row) pairs. The root is the worst kept pair: lowest score, and among
 * equal scores the highest row, so a later row with a tying score never displaces an earlier one.
 * Storage is allocated once per capacity; reset() makes it reusable across queries.
 */
export class TopKHeap {
  private readonly rows: Int32Array
  private readonly scores: Float64Array
  private size = 0
  private k = 0

  constructor (capacity: number) {
    this.rows = new Int32Array(Math.max(1, capacity))
    this.scores = new Float64Array(Math.max(1, capacity))
  }

  get capacity (): number { return this.rows.length }
  get length (): number { return this.size }

  reset (k: number): void {
    if (k > this.rows.length) throw new RangeError(`k ${k} exceeds heap capacity ${this.rows.length}`)
    this.k = k
    this.size = 0
  }

  /** Score a new pair must beat (or tie with a lower row) to enter; -Infinity while not full. */
  get threshold (): number { return this.size < this.k ? -Infinity : this.scores[0] }

  private worse (i: number, j: number): boolean {
    const a = this.scores[i]
    const b = this.scores[j]
    return a < b || (a === b && this.rows[i] > this.rows[j])
  }

  push (row: number, score: number): void {
    if (this.k === 0) return
    if (this.size < this.k) {
      let i = this.size++
      this.rows[i] = row
      this.scores[i] = score
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!this.worse(i, parent)) break
        this.swap(i, parent)
        i = parent
      }
      return
    }
    const worst = this.scores[0]
    if (score < worst || (score === worst && row > this.rows[0])) return
    this.rows[0] = row
    this.scores[0] = score
    this.siftDown(0)
  }

  private swap (i: number, j: number): void {
    const r = this.rows[i]; this.rows[i] = this.rows[j]; this.rows[j] = r
    const s = this.scores[i]; this.scores[i] = this.scores[j]; this.scores[j] = s
  }

  private siftDown (i: number): void {
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.size) return
      const r = l + 1
      const c = r < this.size && this.worse(r, l) ? r : l
      if (!this.worse(c, i)) return
      this.swap(i, c)
      i = c
    }
  }

  /** Best first into `rows`/`scores` (capacity >= length); empties the heap and returns how many. No allocation. */
  drainInto (rows: Int32Array, scores: Float64Array | Float32Array): number {
    const n = this.size
    for (let out = n - 1; out >= 0; out--) {
      rows[out] = this.rows[0]
      scores[out] = this.scores[0]
      this.size--
      if (this.size > 0) {
        this.rows[0] = this.rows[this.size]
        this.scores[0] = this.scores[this.size]
        this.siftDown(0)
      }
    }
    return n
  }

  /** Best first; empties the heap. */
  drain (candidatesExamined: number): TopK {
    const rows = new Int32Array(this.size)
    const scores = new Float32Array(this.size)
    this.drainInto(rows, scores)
    return { rows, scores, candidatesExamined }
  }
}

/**
 * Ranks Hamming candidates by (distance, row): a counting sort over the 0..codeBits distances,
 * stable, so candidates written in ascending row order stay in row order within a distance.
 * Candidates farther than maxDistance or excluded are dropped. `order` is scratch of at least `count`.
 */
export function rankByDistance (
  rows: Int32Array | Uint32Array, dist: Uint8Array, count: number, maxDistance: number,
  k: number, exclude: ExcludeSet | undefined, codeBits: number, histogram: Int32Array, order: Int32Array, candidatesExamined: number,
): TopK {
  histogram.fill(0, 0, codeBits + 2)
  let kept = 0
  for (let i = 0; i < count; i++) {
    const d = dist[i]
    if (d > maxDistance || (exclude !== undefined && exclude.has(rows[i]))) { dist[i] = 255; continue }
    histogram[d + 1]++
    kept++
  }
  for (let d = 1; d <= codeBits + 1; d++) histogram[d] += histogram[d - 1]
  for (let i = 0; i < count; i++) {
    const d = dist[i]
    if (d !== 255) order[histogram[d]++] = i
  }
  const n = Math.min(k, kept)
  const outRows = new Int32Array(n)
  const scores = new Float32Array(n)
  for (let j = 0; j < n; j++) {
    const i = order[j]
    outRows[j] = rows[i]
    scores[j] = codeBits - 2 * dist[i]
  }
  return { rows: outRows, scores, candidatesExamined }
}
