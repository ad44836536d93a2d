import type { z } from 'zod'
import type { HybridTable } from '../hashing/hybrid-table.js'
import type { EmbeddingStorage } from '../bundle-format/manifest.js'
import { DEFAULT_HNSW } from '../model-loader/load-bundle.js'
import type { AnswerFacts } from '../recommend/answer-form.js'
import type { Recommender } from '../recommend/recommender.js'
import { usersByActivity } from '../recommend/warm-up.js'
import type { ModelInfoSchema } from './schemas.js'

/** Tags the model card lists (most items first), and example ids (most active users, most popular items). */
const MAX_LISTED_TAGS = 100
const EXAMPLES = 10

/**
 * Bytes that produce a table's vectors: its rows at the stored dtype (I8: one byte a value plus a
 * float32 scale a row) and its learned mapping.
 */
function tableBytes (t: HybridTable, dtype: EmbeddingStorage): number {
  const rows = t.config.dedicatedRows + t.config.sharedRows
  const values = t.config.dedicatedRows * t.dimension + t.config.sharedRows * t.width
  const rowBytes = dtype === 'I8' ? values + rows * 4 : values * (dtype === 'F16' ? 2 : 4)
  return rowBytes + (t.mapping?.rows.byteLength ?? 0)
}

/** What GET /v1/model and the reload answer say about a model. */
export function modelInfo (rec: Pick<Recommender<AnswerFacts>, 'model' | 'engines' | 'catalog' | 'defaultMethod'>): z.output<typeof ModelInfoSchema> {
  const model = rec.model
  const m = model.manifest
  // The loader builds with DEFAULT_HNSW when the manifest names no parameters.
  const config = m.hnsw ?? DEFAULT_HNSW
  const full = (m.counts.users + m.counts.items) * m.dimension * 4
  const table = (t: typeof m.tables.user, hybrid: HybridTable) => {
    const bytes = tableBytes(hybrid, m.dtypes.embeddings)
    return {
      dedicatedRows: t.dedicatedRows,
      sharedRows: t.sharedRows,
      aggregation: t.aggregation,
      hash: { function: t.hash.function, seeds: [...t.hash.seeds] },
      vectors: t.vectors ?? 'stored',
      learnedMapping: t.learnedMapping?.kind ?? null,
      bytes,
      shareOfFloat32: full === 0 ? 0 : bytes / full,
    }
  }
  return {
    id: model.id,
    version: model.version,
    createdAt: m.createdAt,
    counts: { items: model.items.size, users: model.users.size },
    codeBits: model.codeBits,
    dimension: model.dimension,
    embeddingDtype: m.dtypes.embeddings,
    tables: { user: table(m.tables.user, model.userTable), item: table(m.tables.item, model.itemTable) },
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
    serving: { defaultMethod: rec.defaultMethod },
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
