/** What one trained variant is: how each table maps ids to rows, how big it is, how it is stored. */
export const MAPPING_KINDS = ['hash', 'l2c', 'baco'] as const
export type MappingKind = (typeof MAPPING_KINDS)[number]
export type UserVectors = 'stored' | 'solved'
export type EmbeddingDtype = 'F32' | 'F16' | 'I8'

export interface VariantConfig {
  /** How item ids (and stored user ids) share rows when the table is smaller than the ids. */
  readonly mapping: MappingKind
  /** Share of the full float32 tables' bytes (budget.ts). */
  readonly budget: number
  readonly userVectors: UserVectors
  readonly dtype: EmbeddingDtype
  /** Share of the item rows owned by the most frequent items (the mapping's default when absent). */
  readonly dedicatedShare?: number
}

/** The unhashed reference: a stored float32 row for every user and item. */
export const FULL_MODEL: VariantConfig = { mapping: 'hash', budget: 1, userVectors: 'stored', dtype: 'F32' }
