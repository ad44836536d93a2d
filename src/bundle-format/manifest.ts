import { z } from 'zod'
import { DEFAULT_METHOD, SEARCH_METHODS } from '../defaults.js'
import { DeepRetrievalSchema } from './deep-retrieval.js'

/** The bundle format this loader reads. A bundle with any other value is refused. */
export const FORMAT_VERSION = 1 as const

/** Longest id (user or item) in UTF-8 bytes; the HTTP layer applies the same limit. */
export const MAX_ID_BYTES = 256

/** Ids over HTTP and in events: no control characters (they cannot round-trip through logs and URLs). */
export const ID_PATTERN = /^[^\u0000-\u001f\u007f]+$/ // eslint-disable-line no-control-regex

/** Storage dtypes of the embedding tables. */
export const EMBEDDING_DTYPES = ['F32', 'F16', 'I8'] as const
export type EmbeddingStorage = (typeof EMBEDDING_DTYPES)[number]

export const CODE_BITS = [32, 64, 128] as const
export type CodeBits = (typeof CODE_BITS)[number]

export const FILE_NAMES = {
  manifest: 'manifest.json',
  tensors: 'tensors.safetensors',
  items: 'items.jsonl',
  users: 'users.jsonl',
  hnsw: 'items.hnsw',
} as const

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex sha256')
const Seed = z.number().int().min(0).max(0xffffffff)

/**
 * The third tier of a table: an explicit learned id -> row mapping (co-clustering as in BACO,
 * learned hash functions as in "Learning to Collide"). `tensor` names an I32 or U16 [n, 1 or 2]
 * tensor, one line per listed id (items.jsonl or users.jsonl order), each value a row of [K
 * dedicated | B shared] (in column 1, -1 for I32 or 65535 for U16: no second row; U16 needs
 * K + B <= 65535); an id's vector is the sum of its rows. Sum
 * aggregation only. Ids the list does not hold hash into the shared rows as without a mapping.
 */
export const LearnedMappingSchema = z.object({
  kind: z.enum(['co-cluster', 'learned-hash']),
  tensor: z.string().min(1),
}).strict()

/**
 * One hybrid-hashed embedding table (Zhang et al., "Model Size Reduction Using Frequency Based
 * Double Hashing for Recommender Systems"): `dedicatedRows` ids own a row; every other id maps to
 * two of `sharedRows` rows chosen by MurmurHash3 with the two seeds, aggregated by sum (rows are
 * `dimension` wide) or concatenation (rows are `dimension / 2` wide).
 */
export const TableSchema = z.object({
  dedicatedRows: z.number().int().min(0),
  sharedRows: z.number().int().min(0),
  aggregation: z.enum(['sum', 'concat']),
  hash: z.object({
    function: z.literal('murmur3_x86_32'),
    seeds: z.tuple([Seed, Seed]),
  }).strict(),
  learnedMapping: LearnedMappingSchema.optional(),
  /**
   * User table only. 'solved': no stored user vectors (0 dedicated, 0 shared rows); a listed
   * user's vector is the fold-in (iALS user step) of their training items `user_seen`, computed
   * when served. Absent means 'stored'.
   */
  vectors: z.enum(['stored', 'solved']).optional(),
}).strict()
export type TableConfig = z.infer<typeof TableSchema>

export const HnswSchema = z.object({
  /** 'ip': hnswlib inner-product space. 'l2-mips': L2 space over vectors augmented with sqrt(M^2 - |x|^2). */
  space: z.enum(['ip', 'l2-mips']),
  M: z.number().int().min(2).max(128),
  efConstruction: z.number().int().min(1).max(10_000),
  efSearch: z.number().int().min(1).max(10_000),
  /** Fixed by the build: seeds hnswlib's level generator. */
  randomSeed: z.number().int().min(0).default(100),
}).strict()
export type HnswConfig = z.infer<typeof HnswSchema>

/**
 * How the service folds a user's items into a fresh vector: the iALS user solve against the item
 * vectors, u = (V^T V + alpha V_S^T V_S + reg I)^-1 (1 + alpha) V_S^T 1 (Hu, Koren and Volinsky 2008,
 * eq. 4 with binary preferences), with the confidence weight and regularization used in training.
 */
export const FoldInSchema = z.object({
  alpha: z.number().min(0).max(1e6),
  reg: z.number().gt(0).max(1e6),
  /** Frequency-scaled ridge as in training: reg * (1 + |S|)^regExponent (Rendle et al. 2021). */
  regExponent: z.number().min(0).max(4).default(0),
}).strict()
export type FoldInConfig = z.infer<typeof FoldInSchema>
export type FoldInInput = z.input<typeof FoldInSchema>

/**
 * How the service answers by default. `defaultMethod` serves a request that names no method: the
 * best one depends on the model (on Gowalla the hybrid kept 0.78x of exact inner product's
 * Recall@20, Deep Retrieval at its beam >= 0.98x), and the trainer measures it. 'dr' needs the
 * bundle's Deep Retrieval structure; the loader refuses it without one.
 */
export const ServingSchema = z.object({
  defaultMethod: z.enum(SEARCH_METHODS),
}).strict()
export type ServingConfig = z.infer<typeof ServingSchema>

export const FileEntrySchema = z.object({
  bytes: z.number().int().min(0),
  sha256: Sha256,
}).strict()

export const ManifestSchema = z.object({
  formatVersion: z.number().int(),
  model: z.object({
    id: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore'),
    version: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:+-]+$/, 'letters, digits and ._:+-'),
  }).strict(),
  createdAt: z.iso.datetime({ offset: true }),
  counts: z.object({
    items: z.number().int().min(0),
    users: z.number().int().min(0),
  }).strict(),
  dimension: z.number().int().min(1).max(4096),
  codeBits: z.union([z.literal(32), z.literal(64), z.literal(128)]),
  dtypes: z.object({
    /** I8: each table's rows as int8 with a float32 scale per row in `<tensor>_scale` (docs/model-bundle.md). */
    embeddings: z.enum(EMBEDDING_DTYPES),
    codes: z.literal('U8'),
  }).strict(),
  tables: z.object({
    user: TableSchema,
    item: TableSchema,
  }).strict(),
  hnsw: HnswSchema.optional(),
  foldIn: FoldInSchema.optional(),
  /** The Deep Retrieval structure's shape when the bundle carries its dr_* tensors. */
  deepRetrieval: DeepRetrievalSchema.optional(),
  /** Absent: requests that name no method are served by DEFAULT_METHOD (hybrid). */
  serving: ServingSchema.optional(),
  training: z.record(z.string(), z.unknown()).default({}),
  files: z.record(z.string(), FileEntrySchema),
}).strict()

export type Manifest = z.infer<typeof ManifestSchema>

/** The method a request that names none is served by on a model with this manifest. */
export function defaultMethodOf (m: Pick<Manifest, 'serving'>): (typeof SEARCH_METHODS)[number] {
  return m.serving?.defaultMethod ?? DEFAULT_METHOD
}
