/** The tensors of a bundle's tensors.safetensors, by the name the loader and the writer know them (docs/model-bundle.md). */
export const TENSOR_NAMES = {
  itemCodes: 'item_codes',
  userCodes: 'user_codes',
  itemEmbeddings: 'item_embeddings',
  itemSharedEmbeddings: 'item_embeddings_shared',
  userEmbeddings: 'user_embeddings',
  userSharedEmbeddings: 'user_embeddings_shared',
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
