/**
 * Query building: the vector and the binary code a query is searched with, written into scratch
 * that every query on one model reuses (answers are synchronous, so two never share it). Which of
 * the two a query has decides the methods it can be served by (src/recommend/search-answer.ts).
 */
import type { Model } from '../model-loader/model.js'
import { createFoldInScratch, foldInVector, type FoldInScratch } from '../realtime/fold-in.js'
import { majorityCode, parseHexCode, projectCode } from './codes.js'
import type { QuerySource } from './types.js'

export class Query {
  readonly vector: Float32Array
  readonly code: Uint32Array
  source: QuerySource = 'none'
  hasCode = false
  hasVector = false
  private readonly projected: Float32Array
  private readonly bitCounts: Int32Array
  private readonly foldScratch: FoldInScratch

  constructor (private readonly model: Model) {
    this.vector = new Float32Array(model.dimension)
    this.code = new Uint32Array(model.codeWords)
    this.projected = new Float32Array(model.codeBits)
    this.bitCounts = new Int32Array(model.codeBits)
    this.foldScratch = createFoldInScratch(model.dimension)
  }

  private set (source: QuerySource, hasCode: boolean, hasVector: boolean): this {
    this.source = source
    this.hasCode = hasCode
    this.hasVector = hasVector
    return this
  }

  /**
   * A user id as the model resolves it: a dedicated row (`userRow`) has its learned vector and
   * code; any other id the shared rows of the user table (ids never seen in training included)
   * and a code projected from that vector; null when the model has neither (the fallback).
   */
  fromUser (userId: string, userRow: number | undefined): this | null {
    const resolution = this.model.userTable.resolveInto(userId, this.vector)
    if (resolution === 'none') return null
    // A listed user's rows (dedicated, or a learned mapping's) come with their learned code.
    if (resolution !== 'hashed' && userRow !== undefined) {
      this.storedCode(userRow)
      return this.set('dedicated', true, true)
    }
    return this.set('hashed', this.projectCode(), true)
  }

  /** A listed user's learned code (user_codes row), replacing the query's code. */
  storedCode (userRow: number): void {
    const words = this.model.codeWords
    this.code.set(this.model.userCodes.subarray(userRow * words, (userRow + 1) * words))
  }

  /**
   * Items folded into a fresh vector by least squares (src/realtime/fold-in.ts) and the bitwise
   * majority of their codes; false when the solve fails (only a degenerate model), vector untouched.
   */
  fromFoldIn (rows: Int32Array, n: number, source: 'history' | 'fold-in' | 'solved'): boolean {
    if (!foldInVector(this.model, rows, n, this.vector, this.foldScratch)) return false
    this.majority(rows, n)
    this.set(source, true, true)
    return true
  }

  /** The mean of the items' vectors and the majority of their codes: a session when the solve fails. */
  fromMean (rows: Int32Array, n: number): this {
    const d = this.model.dimension
    const vector = this.vector
    const iv = this.model.itemVectors
    vector.fill(0)
    for (let r = 0; r < n; r++) {
      const base = rows[r] * d
      for (let j = 0; j < d; j++) vector[j] += iv[base + j]
    }
    for (let j = 0; j < d; j++) vector[j] /= n
    this.majority(rows, n)
    return this.set('fold-in', true, true)
  }

  /** A vector and code a caller restored (the fold-in cache's kept solve). */
  restored (source: 'history' | 'solved'): this {
    return this.set(source, true, true)
  }

  /** A raw vector of the model's dimension (the caller checked it); the code projected from it when the model can. */
  fromVector (values: readonly number[]): this {
    for (let j = 0; j < this.model.dimension; j++) this.vector[j] = values[j]
    return this.set('vector', this.projectCode(), true)
  }

  /** A hex code in the bundle's byte order; false when it is not codeBits / 4 hex digits. */
  fromCode (hex: string): boolean {
    if (!parseHexCode(hex, this.model.codeBits, this.code)) return false
    this.set('code', true, false)
    return true
  }

  /** An item's own vector and code (similar items). */
  fromItem (row: number): this {
    const d = this.model.dimension
    const words = this.model.codeWords
    this.vector.set(this.model.itemVectors.subarray(row * d, (row + 1) * d))
    this.code.set(this.model.itemCodes.subarray(row * words, (row + 1) * words))
    return this.set('item', true, true)
  }

  private majority (rows: Int32Array, n: number): void {
    majorityCode(this.model.itemCodes, this.model.codeWords, rows, n, this.bitCounts, this.code)
  }

  /** sign(v P) for a query that has a vector, when the bundle has a user_code_projection. */
  private projectCode (): boolean {
    const projection = this.model.userCodeProjection
    if (projection === null) return false
    projectCode(this.vector, projection, this.model.dimension, this.model.codeBits, this.projected, this.code)
    return true
  }
}
