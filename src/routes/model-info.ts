import type { z } from 'zod'
import { DEFAULT_HNSW } from '../model-loader/load-bundle.js'
import type { AnswerFacts } from '../recommend/answer-form.js'
import type { Recommender } from '../recommend/recommender.js'
import { usersByActivity } from '../recommend/warm-up.js'
import type { ModelInfoSchema } from './schemas.js'

/** Tags the model card lists (most items first), and example ids (most active users, most popular items). */
const MAX_LISTED_TAGS = 100
const EXAMPLES = 10

/** What GET /v1/model and the reload answer say about a model. */
export function modelInfo (rec: Pick<Recommender<AnswerFacts>, 'model' | 'engines' | 'catalog'>): z.output<typeof ModelInfoSchema> {
  const model = rec.model
  const m = model.manifest
  // The loader builds with DEFAULT_HNSW when the manifest names no parameters.
  const config = m.hnsw ?? DEFAULT_HNSW
  const table = (t: typeof m.tables.user) => ({ dedicatedRows: t.dedicatedRows, sharedRows: t.sharedRows, aggregation: t.aggregation, hash: { function: t.hash.function, seeds: [...t.hash.seeds] } })
  return {
    id: model.id,
    version: model.version,
    createdAt: m.createdAt,
    counts: { items: model.items.size, users: model.users.size },
    codeBits: model.codeBits,
    dimension: model.dimension,
    embeddingDtype: m.dtypes.embeddings,
    tables: { user: table(m.tables.user), item: table(m.tables.item) },
    hnsw: model.hnsw === null
      ? null
      : {
          space: model.hnsw.space,
          M: config.M,
          efConstruction: config.efConstruction,
          efSearch: model.hnsw.index.getEf(),
          indexDimension: model.hnsw.indexDimension,
          source: model.hnsw.source,
          buildMs: model.hnsw.buildMs,
        },
    itemBias: model.itemBias !== null,
    userCodeProjection: model.userCodeProjection !== null,
    training: m.training,
    search: (rec.engines.info ?? {}) as Record<string, unknown>,
    loadedAt: model.stats.loadedAt,
    loadMs: model.stats.loadMs,
    catalog: {
      tags: rec.catalog.tagCounts.slice(0, MAX_LISTED_TAGS).map(([tag, items]) => ({ tag, items })),
      exampleUserIds: Array.from(usersByActivity(model, EXAMPLES), (row) => model.users.idAt(row)),
      exampleItemIds: Array.from(model.popularItems.subarray(0, EXAMPLES), (row) => model.items.idAt(row)),
      rules: rec.catalog.ruleCount,
    },
  }
}
