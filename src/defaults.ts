/**
 * Defaults and limits that more than one layer reads: the configuration from the environment, the
 * HTTP schemas and the domain modules (search, recommend, state). Each is defined here once, and
 * this module imports nothing, so every layer can read it without importing another.
 */

/** The retrieval methods a request may ask for. */
export const SEARCH_METHODS = ['hybrid', 'hamming', 'mips', 'dr'] as const
/**
 * The method a request that names none is served by when the model's manifest does not say
 * (`serving.defaultMethod`, src/bundle-format/manifest.ts). The API's default k.
 */
export const DEFAULT_METHOD = 'hybrid'
export const DEFAULT_K = 10
/** Largest k a request may ask for. */
export const MAX_K = 1000
/** Most ids in a request's list (a session's item ids, an exclude list); the recommender sizes its session buffer by it. */
export const MAX_LIST_IDS = 1000

/**
 * Deep Retrieval: the widest beam a request may ask for, and how far a search widens before it
 * falls back. A beam costs width logits (and a log-softmax) per kept prefix and layer.
 */
export const MAX_DR_BEAM = 1024

/** Hybrid: Hamming candidates re-ranked by inner product (HYBRID_CANDIDATES). */
export const DEFAULT_HYBRID_CANDIDATES = 200
/**
 * Codes the hybrid's bounded candidate stage compares per candidate (HYBRID_CODES_PER_CANDIDATE).
 * npm run bench:hybrid, 1M clustered codes, C = 200: 8 kept recall@10 against exact MIPS at the
 * exact stage's 0.265 (overlap 0.971 with the exact hybrid) and cut the mean query 117.8 -> 72.4 µs
 * and p99 1,169 -> 153 µs; 4 was faster (mean 55.8 µs) at 0.260 recall and 0.873 overlap. Learned
 * codes (models/default, tables forced) mostly finish under the bound or run out of probes first:
 * recall 0.985 against 0.991 (BENCHMARKS.md).
 */
export const DEFAULT_HYBRID_CODES_PER_CANDIDATE = 8

/** Folded-in user vectors kept per model (FOLD_IN_CACHE_BYTES): src/recommend/fold-in-cache.ts. */
export const DEFAULT_FOLD_IN_CACHE_BYTES = 16 * 1024 * 1024
/**
 * Whole answers kept per model (RESULT_CACHE_BYTES): ~104k top-10 answers with titles at the 1,288
 * bytes the budget counts for each on models/default (npm run bench:cache-bytes). A budget is a
 * ceiling, not an allocation: a small model's few users take little. On the 1M bench (100k Zipf
 * users, a minute's warm-up) 128 MiB answered 95.8% from the cache against 85.3% at 32 MiB, for
 * ~45 MiB more RSS per worker (BENCHMARKS.md).
 */
export const DEFAULT_RESULT_CACHE_BYTES = 128 * 1024 * 1024

/** Distinct items kept per user in the recent history (HISTORY_LENGTH), and its upper bound. */
export const DEFAULT_HISTORY_LENGTH = 200
export const MAX_HISTORY_LENGTH = 10_000

/**
 * Training items a fold-in solves over, at most: the last ones of the user's user_seen slice (a
 * bundle writer lists each user's items oldest first for these to be the most recent). The solve
 * is O(n d^2): at d = 64, 1,500 rows keep the WebAssembly solve's p99 under 2 ms where 2,000 rows
 * do not (BENCHMARKS.md, real time; bench/realtime/user-fold-in.ts --solve-rows 1500,2000).
 */
export const MAX_FOLD_IN_TRAINING_ITEMS = 1_500
/**
 * History entries the in-process state holds at most (HISTORY_MAX_ENTRIES; a user and each of their
 * items count one): ~70-100 bytes of heap each, so ~200 MB per replica at the cap. Past a few
 * million entries Redis is the better fit (README).
 */
export const DEFAULT_HISTORY_MAX_ENTRIES = 2_000_000
/** A user's history lives this long after their last event (HISTORY_TTL_SECONDS). */
export const DEFAULT_HISTORY_TTL_SECONDS = 30 * 24 * 3600
/** Trending counts halve every this many seconds (TRENDING_HALF_LIFE_SECONDS). */
export const DEFAULT_TRENDING_HALF_LIFE_SECONDS = 6 * 3600
/** Budget of one state store read on the request path (REDIS_TIMEOUT_MS). */
export const DEFAULT_STATE_TIMEOUT_MS = 50
/** How long a client's eventId is remembered (EVENT_ID_TTL_SECONDS): a day of retries. */
export const DEFAULT_EVENT_ID_TTL_SECONDS = 24 * 3600
/** A client's eventId: a UUID or a hash fits; each one is kept for EVENT_ID_TTL_SECONDS. */
export const MAX_EVENT_ID_BYTES = 128
/** Most eventIds an in-process store remembers (EVENT_ID_CAPACITY). */
export const DEFAULT_EVENT_ID_CAPACITY = 1_000_000
