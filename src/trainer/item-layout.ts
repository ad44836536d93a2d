/**
 * The item table's layout for a row budget, by mapping kind. 'hash' is frequency + double hashing
 * (the most frequent half of the rows dedicated, table-layout.ts); the learned mappings live in
 * mappings/.
 */
import type { Csr } from './csr.js'
import { itemCounts } from './evaluate.js'
import type { MfWorkerPool } from './hashed-mf.js'
import { createTableLayout, frequencyOrder, tableSeeds, type TableLayout } from './table-layout.js'
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
}

export async function buildItemLayout (kind: MappingKind, input: ItemLayoutInput): Promise<TableLayout> {
  if (kind !== 'hash') throw new Error(`mapping ${kind} is not built yet`)
  const k = Math.floor(input.rows / 2)
  return createTableLayout(input.ids, frequencyOrder(itemCounts(input.matrix)).slice(0, k), input.rows - k, tableSeeds(input.seed, 'item'))
}

/** Columns of the mapping array: 2 when some id sums two rows. */
export function layoutColumns (layout: TableLayout): 1 | 2 {
  for (let i = 0; i < layout.idRowCount.length; i++) if (layout.idRowCount[i] > 1) return 2
  return 1
}
