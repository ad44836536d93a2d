/**
 * The item table's layout for a row budget, by mapping kind (mappings/build-mapping.ts: frequency +
 * double hashing, Learning to Collide, balanced co-clustering).
 */
import type { Csr } from './csr.js'
import { transposeCsr } from './csr.js'
import type { MfOptions, MfWorkerPool } from './hashed-mf.js'
import { buildMapping } from './mappings/build-mapping.js'
import type { TableLayout } from './table-layout.js'
import type { MappingKind } from './variant-config.js'

export interface ItemLayoutInput {
  readonly ids: readonly string[]
  /** users x items. */
  readonly matrix: Csr
  /** Rows K + B the table may have. */
  readonly rows: number
  readonly seed: number
  readonly threads: number
  readonly pool: MfWorkerPool | undefined
  /** The run's iALS confidence and ridge, for the small model l2c clusters ids by. */
  readonly embedding: Pick<MfOptions, 'alpha' | 'reg' | 'regExponent'>
  /** Share of the rows owned by the most frequent ids (the mapping's default when absent). */
  readonly dedicatedShare?: number
}

export async function buildItemLayout (kind: MappingKind, input: ItemLayoutInput): Promise<TableLayout> {
  return await buildMapping(kind, 'item', {
    ids: input.ids, matrix: transposeCsr(input.matrix), transpose: input.matrix, rows: input.rows, seed: input.seed, threads: input.threads, embedding: input.embedding, ...(input.dedicatedShare === undefined ? {} : { dedicatedShare: input.dedicatedShare }), ...(input.pool ? { pool: input.pool } : {}),
  })
}
