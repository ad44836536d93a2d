import type { Model } from '../model-loader/model.js'
import { createSearchEngines, searchCatalogOf, type SearchEngineOptions } from '../search/engines.js'
import type { QueryEngines } from './types.js'

/** The retrieval engines over a loaded model, built once per load (never per request). */
export function createModelEngines (model: Model, options: SearchEngineOptions = {}): QueryEngines {
  return createSearchEngines(searchCatalogOf(model), options)
}
