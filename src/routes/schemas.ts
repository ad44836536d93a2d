/**
 * Request and response schemas shared by the routes. They are the contract's source: the
 * openapi agreement test (test/app/openapi.test.ts) generates a spec from them and compares it
 * with the hand-written openapi.yaml.
 */
import { z } from 'zod'
import { ProblemSchema } from '../errors.js'
import { EMBEDDING_DTYPES, MAX_ID_BYTES } from '../bundle-format/manifest.js'
import { DEFAULT_K, MAX_DR_BEAM, MAX_K, MAX_LIST_IDS, SEARCH_METHODS } from '../defaults.js'
import { EVENT_REJECTIONS, MAX_EVENTS_PER_BATCH } from '../realtime/events.js'
import { MAX_PAGED_DEPTH } from '../recommend/ranking.js'
import { ItemRulePatchSchema, ItemRuleSchema, MAX_TAG_BYTES, TagSchema } from '../state/item-rules.js'
import { printableText } from '../util/text-schema.js'

export const MAX_EF = 10_000
export const MAX_BATCH = 100
export const MAX_VECTOR = 4096
/** Tags a request may filter by (tags and excludeTags each). */
export const MAX_FILTER_TAGS = 50

/** User and item ids: 1..MAX_ID_BYTES bytes of UTF-8 (the bundle's own limit), no control characters. */
export const IdSchema = printableText(MAX_ID_BYTES)

export const MethodSchema = z.enum(SEARCH_METHODS)
/** Omitted: the active model's default (its manifest's serving.defaultMethod), resolved by the recommender. */
const RequestMethod = MethodSchema.optional()

const KQuery = z.coerce.number().int().min(1).max(MAX_K).default(DEFAULT_K)
const EfQuery = z.coerce.number().int().min(1).max(MAX_EF).optional()
/** Deep Retrieval's beam (method=dr); the bundle's default when absent. */
const BeamQuery = z.coerce.number().int().min(1).max(MAX_DR_BEAM).optional()
const ExcludeQuery = z.string().max(MAX_LIST_IDS * (MAX_ID_BYTES + 1)).optional()
  .transform((s) => (s === undefined || s === '' ? undefined : s.split(',')))
  .pipe(z.array(IdSchema).max(MAX_LIST_IDS).optional())

const Flag = z.enum(['true', 'false']).optional().transform((v) => v === undefined ? undefined : v === 'true')
/** Comma separated tags; unknown tags simply match no item. */
const TagsQuery = z.string().max(MAX_FILTER_TAGS * (MAX_TAG_BYTES + 1)).optional()
  .transform((s) => (s === undefined || s === '' ? undefined : s.split(',')))
  .pipe(z.array(TagSchema).max(MAX_FILTER_TAGS).optional())
const OffsetQuery = z.coerce.number().int().min(0).max(MAX_PAGED_DEPTH - 1).optional()
const DiversityQuery = z.coerce.number().min(0).max(1).optional()

/** Filters, pages, diversity and explanations: the options every recommendation request shares. */
const ListingQuery = {
  tags: TagsQuery,
  excludeTags: TagsQuery,
  offset: OffsetQuery,
  diversity: DiversityQuery,
  explain: Flag,
  withTags: Flag,
  measureDiversity: Flag,
}

/** A page of one ranking reaches at most MAX_PAGED_DEPTH (ranking.ts): offset + k. */
function pageFits (q: { offset?: number, k: number }): boolean {
  return q.offset === undefined || q.offset + q.k <= MAX_PAGED_DEPTH
}
const PAGE_FITS = { message: `offset + k must be at most ${MAX_PAGED_DEPTH}`, path: ['offset'] }

export const RecommendQuerySchema = z.object({
  k: KQuery,
  method: RequestMethod,
  exclude: ExcludeQuery,
  ef: EfQuery,
  beam: BeamQuery,
  excludeSeen: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  ...ListingQuery,
}).refine(pageFits, PAGE_FITS)

export const SimilarQuerySchema = z.object({
  k: KQuery,
  method: RequestMethod,
  exclude: ExcludeQuery,
  ef: EfQuery,
  beam: BeamQuery,
  ...ListingQuery,
}).refine(pageFits, PAGE_FITS)

export const UserParamsSchema = z.object({ userId: IdSchema })
export const ItemParamsSchema = z.object({ itemId: IdSchema })

/** One recommendation request by body: exactly one of userId, itemIds, vector, code. */
export const RecommendBodySchema = z.object({
  userId: IdSchema.optional(),
  itemIds: z.array(IdSchema).min(1).max(MAX_LIST_IDS).optional(),
  vector: z.array(z.number()).min(1).max(MAX_VECTOR).optional(),
  code: z.string().regex(/^(?:[0-9a-fA-F]{2})+$/, 'hex digits, two per byte').max(32).optional(),
  k: z.number().int().min(1).max(MAX_K).default(DEFAULT_K),
  method: RequestMethod,
  exclude: z.array(IdSchema).max(MAX_LIST_IDS).optional(),
  ef: z.number().int().min(1).max(MAX_EF).optional(),
  beam: z.number().int().min(1).max(MAX_DR_BEAM).optional(),
  /** With userId: leave out the user's training items and recent history (default true). */
  excludeSeen: z.boolean().optional(),
  tags: z.array(TagSchema).max(MAX_FILTER_TAGS).optional(),
  excludeTags: z.array(TagSchema).max(MAX_FILTER_TAGS).optional(),
  /** Only these items may be recommended (ids outside the catalog are ignored). */
  allowedItemIds: z.array(IdSchema).min(1).max(MAX_LIST_IDS).optional(),
  offset: z.number().int().min(0).max(MAX_PAGED_DEPTH - 1).optional(),
  diversity: z.number().min(0).max(1).optional(),
  explain: z.boolean().optional(),
  withTags: z.boolean().optional(),
  measureDiversity: z.boolean().optional(),
}).strict().refine(
  (b) => Number(b.userId !== undefined) + Number(b.itemIds !== undefined) + Number(b.vector !== undefined) + Number(b.code !== undefined) === 1,
  { message: 'give exactly one of userId, itemIds, vector, code' },
).refine(pageFits, PAGE_FITS)

/**
 * An event batch: the envelope is checked here, each event by validateEvents (src/realtime/events.ts)
 * so one bad event is reported by index instead of refusing the batch.
 */
export const EventsBodySchema = z.object({
  events: z.array(z.unknown()).min(1).max(MAX_EVENTS_PER_BATCH),
}).strict()

export const EventsResponseSchema = z.object({
  /** Events acknowledged: stored now, or already stored under the same eventId (counted in `duplicates` too). */
  accepted: z.number().int().min(0),
  /** Accepted events whose eventId was stored before (a retry): acknowledged, not applied again. */
  duplicates: z.number().int().min(0),
  rejected: z.array(z.object({
    index: z.number().int().min(0),
    reason: z.enum(EVENT_REJECTIONS),
    detail: z.string(),
  })),
})

export const BatchBodySchema = z.object({
  requests: z.array(RecommendBodySchema).min(1).max(MAX_BATCH),
}).strict()

export const RecommendedItemSchema = z.object({
  id: z.string(),
  score: z.number(),
  rank: z.number().int().min(1),
  title: z.string().optional(),
  /** With withTags: the item's effective tags (its catalog rule's, else the model's). */
  tags: z.array(z.string()).optional(),
  /** With explain: why it was chosen. */
  reason: z.enum(['similar', 'profile', 'trending', 'popular']).optional(),
  /** With explain and reason `similar`: the query's own item it is closest to. */
  because: z.object({ id: z.string(), title: z.string().optional() }).optional(),
})

export const RecommendationResponseSchema = z.object({
  modelVersion: z.string(),
  method: z.enum([...SEARCH_METHODS, 'popular']),
  requestedMethod: MethodSchema,
  fallback: z.enum(['popular', 'trending']).optional(),
  methodNote: z.string().optional(),
  source: z.enum(['dedicated', 'solved', 'hashed', 'fold-in', 'history', 'vector', 'code', 'item', 'none']),
  degraded: z.boolean().optional(),
  candidatesExamined: z.number().int().min(0),
  items: z.array(RecommendedItemSchema),
  /** With measureDiversity: mean cosine similarity of the items' vectors over every pair (lower is more diverse). */
  meanPairwiseSimilarity: z.number().optional(),
})

export const BatchResponseSchema = z.object({
  modelVersion: z.string(),
  results: z.array(z.union([RecommendationResponseSchema, z.object({ error: ProblemSchema })])),
})

const TableInfoSchema = z.object({
  dedicatedRows: z.number().int().min(0),
  sharedRows: z.number().int().min(0),
  aggregation: z.enum(['sum', 'concat']),
  hash: z.object({ function: z.string(), seeds: z.array(z.number().int().min(0)) }),
  vectors: z.enum(['stored', 'solved']).describe('stored: vectors come from the table rows; solved: no stored user vectors, a listed user\'s is the fold-in of their training items'),
  learnedMapping: z.enum(['co-cluster', 'learned-hash']).nullable().describe('The kind of the learned id -> row mapping, or null (dedicated prefix + double hashing)'),
  bytes: z.number().int().min(0).describe('Bytes of everything that produces this table\'s vectors: dedicated and shared rows at the bundle\'s dtype, plus the learned mapping'),
  shareOfFloat32: z.number().min(0).describe('bytes / ((counts.users + counts.items) * dimension * 4): the share of float32 tables with a row for every user and item (the two tables\' shares add up)'),
})

export const ModelInfoSchema = z.object({
  id: z.string(),
  version: z.string(),
  createdAt: z.string(),
  counts: z.object({ items: z.number().int().min(0), users: z.number().int().min(0) }),
  codeBits: z.union([z.literal(32), z.literal(64), z.literal(128)]),
  dimension: z.number().int().min(1),
  embeddingDtype: z.enum(EMBEDDING_DTYPES).describe('Storage dtype of the embedding tables; I8 tables are int8 with a float32 scale per row, served dequantized'),
  tables: z.object({ user: TableInfoSchema, item: TableInfoSchema }),
  hnsw: z.object({
    space: z.enum(['ip', 'l2-mips']),
    M: z.number().int().min(1),
    efConstruction: z.number().int().min(1),
    efSearch: z.number().int().min(1),
    indexDimension: z.number().int().min(1),
    source: z.enum(['file', 'built']),
    buildMs: z.number(),
  }).nullable(),
  itemBias: z.boolean(),
  userCodeProjection: z.boolean(),
  /** How the model serves: the method a request that names none gets (the manifest's serving.defaultMethod, hybrid when absent). */
  serving: z.object({ defaultMethod: MethodSchema }),
  /** The bundle's training metadata as written by the trainer (evaluation metrics included). */
  training: z.record(z.string(), z.unknown()),
  /** The structures the retrieval engines chose for this model (multi-index tables or linear scan, HNSW or exact). */
  search: z.record(z.string(), z.unknown()),
  loadedAt: z.string(),
  loadMs: z.number(),
  /** The catalog as the demo page and clients browse it: the model's tags, ids to try. */
  catalog: z.object({
    tags: z.array(z.object({ tag: z.string(), items: z.number().int().min(0) })),
    exampleUserIds: z.array(z.string()),
    exampleItemIds: z.array(z.string()),
    rules: z.number().int().min(0),
  }),
})

export const ItemStateSchema = z.object({
  id: z.string(),
  title: z.string().optional(),
  available: z.boolean(),
  /** Effective tags: the catalog rule's when it sets them, else the model's. */
  tags: z.array(z.string()),
  modelTags: z.array(z.string()),
  boost: z.number(),
  /** The catalog rule in force, or null (the model's defaults). */
  rule: ItemRuleSchema.nullable(),
})

export const ItemPatchSchema = ItemRulePatchSchema

export const ReloadBodySchema = z.object({
  dir: z.string().min(1).max(1024).regex(/^[A-Za-z0-9._\-/]+$/, 'letters, digits, ".", "_", "-" and "/"'),
}).strict()

export const ReloadResponseSchema = z.object({
  previousVersion: z.string().nullable(),
  durationMs: z.number(),
  /** Recorded as the active model in the state store and announced to every replica (false: store unavailable). */
  announced: z.boolean(),
  model: ModelInfoSchema,
})

export const HealthSchema = z.object({ status: z.literal('ok') })

export const CheckSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })

export const ReadySchema = z.object({
  status: z.literal('ready'),
  /** A dependency (Redis, the cluster primary's state channel) is down: recommendations are served from the model alone, events refused. */
  degraded: z.boolean(),
  modelVersion: z.string(),
  checks: z.array(CheckSchema),
})

export const NotReadyProblemSchema = ProblemSchema.extend({ checks: z.array(CheckSchema) })

/** Error responses of a route, all problem+json. */
export function problems<S extends number> (...statuses: S[]): Record<S, { description: string, content: { 'application/problem+json': { schema: typeof ProblemSchema } } }> {
  const out = {} as Record<S, { description: string, content: { 'application/problem+json': { schema: typeof ProblemSchema } } }>
  for (const s of statuses) out[s] = { description: PROBLEM_DESCRIPTIONS[s] ?? 'Error', content: { 'application/problem+json': { schema: ProblemSchema } } }
  return out
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid parameters or malformed body',
  401: 'Missing or invalid bearer token',
  404: 'Unknown resource',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Unsupported content type',
  422: 'Well formed but refused',
  500: 'Internal error',
  503: 'Not ready',
}
