/** The tensors of a bundle's tensors.safetensors, by the name the loader and the writer know them (docs/model-bundle.md). */
export const TENSOR_NAMES = {
  itemCodes: 'item_codes',
  userCodes: 'user_codes',
  itemEmbeddings: 'item_embeddings',
  itemSharedEmbeddings: 'item_embeddings_shared',
  userEmbeddings: 'user_embeddings',
  userSharedEmbeddings: 'user_embeddings_shared',
  /** F32 [rows], one per I8 embedding table: row r's values are scale[r] * int8 (docs/model-bundle.md). */
  itemEmbeddingsScale: 'item_embeddings_scale',
  itemSharedEmbeddingsScale: 'item_embeddings_shared_scale',
  userEmbeddingsScale: 'user_embeddings_scale',
  userSharedEmbeddingsScale: 'user_embeddings_shared_scale',
  itemBias: 'item_bias',
  itemPopularity: 'item_popularity',
  userCodeProjection: 'user_code_projection',
  userSeenIndptr: 'user_seen_indptr',
  userSeenItems: 'user_seen_items',
  itemGram: 'item_gram',
  /** The learned id -> row mappings our writer ships (the manifest's `learnedMapping.tensor` names the tensor). */
  itemRows: 'item_rows',
  userRows: 'user_rows',
} as const

/**
 * A U16 learned mapping: 65535 in column 1 means "no second row" (I32 uses -1), so a U16 mapping
 * holds tables of at most 65535 rows (K + B), rows 0..65534.
 */
export const U16_NO_ROW = 0xffff
export const U16_MAPPING_MAX_ROWS = 0xffff

/** The companion scale tensor of an I8 embedding table. */
export function scaleTensorName (table: string): string {
  return `${table}_scale`
}
