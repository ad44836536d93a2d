import type { Model } from '../model-loader/model.js'
import { createSearchEngines } from '../search/engines.js'
import type { QueryEngines } from './types.js'

/** The retrieval engines over a loaded model, built once per load (never per request). */
export function createModelEngines (model: Model): QueryEngines {
  return createSearchEngines({
    dimension: model.dimension,
    codeBits: model.codeBits,
    codeWords: model.codeWords,
    itemCodes: model.itemCodes,
    itemVectors: model.itemVectors,
    itemNorms: model.itemNorms,
    itemBias: model.itemBias,
    hnsw: model.hnsw,
    itemCount: model.items.size,
  })
}
