import type { Csr } from '../csr.js'
import type { MfOptions, MfWorkerPool } from '../hashed-mf.js'

export type MappingKind = 'hash' | 'l2c' | 'baco'
export type MappingSide = 'user' | 'item'

/** What every mapping builder gets for one table (see README.md). */
export interface MappingInput {
  /** This side's external ids in dense order. */
  readonly ids: readonly string[]
  /** This side's ids x the other side (values: interaction weights). */
  readonly matrix: Csr
  /** The other side x this side. */
  readonly transpose: Csr
  /** K + B: the rows this table may use. */
  readonly rows: number
  readonly seed: number
  readonly threads: number
  readonly pool?: MfWorkerPool
  /** Share of `rows` given to the most frequent ids as their own rows (per-kind default). */
  readonly dedicatedShare?: number
  /** baco: an id may also take its second-best cluster (two rows, summed). Default false. */
  readonly secondary?: boolean
  /** l2c: overrides for the small iALS whose vectors are clustered (alpha, reg, ...). */
  readonly embedding?: Partial<MfOptions>
}

/** Interactions per id (stored entries, as the pipeline counts for frequency order). */
export function rowCounts (m: Csr): Float32Array {
  const out = new Float32Array(m.rows)
  for (let r = 0; r < m.rows; r++) out[r] = m.indptr[r + 1] - m.indptr[r]
  return out
}
