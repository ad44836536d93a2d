import type { Model } from '../model-loader/model.js'
import { createSearchEngines, searchCatalogOf } from '../search/engines.js'
import type { QueryEngines } from './types.js'

/** The retrieval engines over a loaded model, built once per load (never per request). */
export function createModelEngines (model: Model): QueryEngines {
  return createSearchEngines(searchCatalogOf(model))
}
