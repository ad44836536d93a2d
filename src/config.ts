/**
 * Process configuration from environment variables, validated once at startup (never at import
 * time, so tests build apps from literal objects). The message of a bad variable names it.
 */
import { z } from 'zod'
import {
  DEFAULT_FOLD_IN_CACHE_BYTES, DEFAULT_HISTORY_LENGTH, DEFAULT_HISTORY_MAX_ENTRIES, DEFAULT_HISTORY_TTL_SECONDS, DEFAULT_HYBRID_CANDIDATES, DEFAULT_HYBRID_CODES_PER_CANDIDATE,
  DEFAULT_EVENT_ID_CAPACITY, DEFAULT_EVENT_ID_TTL_SECONDS, DEFAULT_K, DEFAULT_RESULT_CACHE_BYTES, DEFAULT_STATE_TIMEOUT_MS, DEFAULT_TRENDING_HALF_LIFE_SECONDS, MAX_HISTORY_LENGTH, MAX_K, SEARCH_METHODS,
} from './defaults.js'
import { usableCpus } from './util/cpus.js'

const Port = z.coerce.number().int().min(0).max(65_535)
const Bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')

/** Comma separated list; empty entries dropped. `*` alone allows every origin. */
const OriginList = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
  .pipe(z.array(z.union([z.literal('*'), z.url({ protocol: /^https?$/ })])))

export const ConfigSchema = z.object({
  PORT: Port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** The bundle served at startup. */
  MODEL_DIR: z.string().min(1).default('models/default'),
  /** Reload may only name directories below this root. */
  MODELS_ROOT: z.string().min(1).default('models'),
  /** Bearer token for /admin/*; the admin routes are not registered without it. */
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  CORS_ORIGINS: OriginList.default([]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest accepted request body in bytes; a 100-entry batch of 256-d vectors is ~0.5 MB of JSON. */
  BODY_LIMIT: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** The whole drain on SIGTERM, after which the process exits anyway: below Docker's default 10 s stop grace period. */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(8000),
  /**
   * From SIGTERM to closing the listener: /readyz answers 503 and requests are still served, so load
   * balancers move traffic away first (src/plugins/drain.ts). Below SHUTDOWN_DELAY_MS; unset: 3 s,
   * at most half of SHUTDOWN_DELAY_MS.
   */
  DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(600_000).optional(),
  /** Hybrid: Hamming candidates re-ranked by inner product. */
  HYBRID_CANDIDATES: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_HYBRID_CANDIDATES),
  /**
   * Hybrid on catalogs with multi-index tables (>= 32k items): codes compared per candidate before
   * the candidate stage stops and re-ranks the best it reached; 0 = exact Hamming top-C.
   */
  HYBRID_CODES_PER_CANDIDATE: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_HYBRID_CODES_PER_CANDIDATE),
  /**
   * Hybrid re-rank through an int8 copy of the item vectors (items x dimension bytes per worker):
   * the same results from a quarter of the bytes read. false saves that memory.
   */
  HYBRID_INT8_PREFILTER: Bool.default(true),
  /** Real-time state shared by replicas (events, history, trending, active model); in-process when unset. */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Every key (and the model channel) lives under this prefix, so services can share one Redis. */
  REDIS_KEY_PREFIX: z.string().min(1).max(128).default('hashrec:'),
  /** Budget of one Redis read on the request path; past it the request is served degraded from the model. */
  REDIS_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(DEFAULT_STATE_TIMEOUT_MS),
  /** Budget of one event batch write (one script of up to 1000 events): larger than a read's. */
  REDIS_WRITE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(1000),
  /** Distinct items kept per user in the recent history. */
  HISTORY_LENGTH: z.coerce.number().int().min(1).max(MAX_HISTORY_LENGTH).default(DEFAULT_HISTORY_LENGTH),
  /** A user's history lives this long after their last event. */
  HISTORY_TTL_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_HISTORY_TTL_SECONDS),
  /**
   * Most history entries the in-process state keeps (a user and each of their items count one):
   * past it the least recently active users are forgotten, so invented user ids cannot grow the
   * heap without bound. Each worker and the primary hold a replica. Redis bounds its own memory.
   */
  HISTORY_MAX_ENTRIES: z.coerce.number().int().min(1).max(1_000_000_000).default(DEFAULT_HISTORY_MAX_ENTRIES),
  /**
   * Bytes of folded-in user vectors each worker keeps between a user's requests (a user whose
   * history has items beyond the training data costs a least-squares solve: p50 0.138 ms, p99
   * 0.804 ms on MovieLens, bench/realtime/user-fold-in.ts); 0 = none.
   */
  FOLD_IN_CACHE_BYTES: z.coerce.number().int().min(0).max(2 ** 40).default(DEFAULT_FOLD_IN_CACHE_BYTES),
  /**
   * Bytes of whole user and similar-items answers each worker keeps (exact: used only for the same
   * request and the same user items; src/recommend/result-cache.ts); 0 = none.
   */
  RESULT_CACHE_BYTES: z.coerce.number().int().min(0).max(2 ** 40).default(DEFAULT_RESULT_CACHE_BYTES),
  /**
   * Users whose answers are computed and kept before a model takes traffic (at startup, before
   * listening; on a reload, while the previous model serves), most training interactions first
   * (src/recommend/warm-up.ts); 0 = none. Warming also stops at 90% of RESULT_CACHE_BYTES.
   */
  WARM_UP_USERS: z.coerce.number().int().min(0).max(100_000_000).default(100_000),
  /** Time budget of one warm-up, in seconds. */
  WARM_UP_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  /**
   * The request warmed: top WARM_UP_K by WARM_UP_METHOD, seen items excluded. WARM_UP_METHOD unset:
   * each model's default method (its manifest's serving.defaultMethod), what a request naming none gets.
   */
  WARM_UP_K: z.coerce.number().int().min(1).max(MAX_K).default(DEFAULT_K),
  WARM_UP_METHOD: z.enum(SEARCH_METHODS).optional(),
  /**
   * How long an event's client eventId is remembered: a batch retried within it (after a 503, which
   * may have been stored) is acknowledged without applying its events twice. Redis keeps one key
   * per id for this long; the in-process store at most EVENT_ID_CAPACITY ids.
   */
  EVENT_ID_TTL_SECONDS: z.coerce.number().int().min(1).max(30 * 24 * 3600).default(DEFAULT_EVENT_ID_TTL_SECONDS),
  /** Most eventIds the in-process state remembers (~100 bytes of heap each, in the primary only with WORKERS > 1). */
  EVENT_ID_CAPACITY: z.coerce.number().int().min(1).max(100_000_000).default(DEFAULT_EVENT_ID_CAPACITY),
  /** Trending counts halve every this many seconds. */
  TRENDING_HALF_LIFE_SECONDS: z.coerce.number().min(1).default(DEFAULT_TRENDING_HALF_LIFE_SECONDS),
  /** Requests per RATE_LIMIT_WINDOW per client key (x-api-key header, else the client IP); off when unset. */
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).optional(),
  /** Rate limit window in milliseconds. */
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1).default(60_000),
  /** Names this process in model announcements and logs (default: hostname:pid). */
  REPLICA_ID: z.string().min(1).max(256).optional(),
  /** Validate every response against its schema before sending (tests, development): ~40% more CPU per cheap request. */
  VALIDATE_RESPONSES: Bool.default(false),
  /** Pretty logs; defaults to on only when stdout is a TTY. */
  LOG_PRETTY: Bool.optional(),
  /**
   * Log every request (fastify's "incoming request" and "request completed" lines at info). Off by
   * default: two JSON lines per request cost 21-28% of the 1M bench's throughput (22.5k -> 16.3k
   * and 19.1k -> 15.0k req/s in two npm run bench:http A/Bs, BENCHMARKS.md), and /metrics already
   * counts and times every request.
   * Failures (5xx) are logged with their request id either way.
   */
  LOG_REQUESTS: Bool.default(false),
  /**
   * Processes serving the port through node:cluster; 1 runs no cluster. Each holds its own copy of
   * the model. Unset: one per core (see workerCount).
   */
  WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  /**
   * Time budget of one request: the socket must deliver it within this (node's requestTimeout, 408)
   * and a request that has not reached its handler by then is answered 503 instead of being served late.
   */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(2000),
  /**
   * Shed load (503 + Retry-After) when the mean event-loop delay over the last sample exceeds this:
   * the delay is about (requests queued on the worker) x (time per request), so it bounds queueing.
   * Measured on models/default, one worker, hybrid k=10: 4 ms at 64 connections, 25 ms at 256,
   * 90 ms at 512 (bench/http/run.ts). 0 turns it off.
   */
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().min(0).max(60_000).default(50),
  /** Shed when the V8 heap exceeds this; typed arrays of the model live outside it. 0 = off. */
  MAX_HEAP_USED_BYTES: z.coerce.number().int().min(0).default(1024 ** 3),
  /** Shed when resident memory exceeds this (the model counts here). 0 = off. */
  MAX_RSS_BYTES: z.coerce.number().int().min(0).default(0),
  /** Retry-After seconds sent with a shed request. */
  RETRY_AFTER_S: z.coerce.number().int().min(1).max(3600).default(1),
}).superRefine((c, ctx) => {
  if (c.DRAIN_DELAY_MS !== undefined && c.DRAIN_DELAY_MS >= c.SHUTDOWN_DELAY_MS) {
    ctx.addIssue({ code: 'custom', path: ['DRAIN_DELAY_MS'], message: `must be below SHUTDOWN_DELAY_MS (${c.SHUTDOWN_DELAY_MS}), which bounds the whole drain` })
  }
  // The caches live on the V8 heap: filled past the heap limit they would have a healthy worker
  // shed every request. Half the limit leaves the rest for requests in flight and the id caches.
  const caches = c.RESULT_CACHE_BYTES + c.FOLD_IN_CACHE_BYTES
  if (c.MAX_HEAP_USED_BYTES > 0 && caches > c.MAX_HEAP_USED_BYTES / 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['RESULT_CACHE_BYTES'],
      message: `RESULT_CACHE_BYTES + FOLD_IN_CACHE_BYTES (${caches}) must be at most half of MAX_HEAP_USED_BYTES (${c.MAX_HEAP_USED_BYTES}), or the caches alone would trigger load shedding; raise MAX_HEAP_USED_BYTES (and node's --max-old-space-size) or set it to 0`,
    })
  }
})

export type Config = z.infer<typeof ConfigSchema>

/** The state stores' settings (src/state/types.ts StateOptions: in-process, replicated or Redis) from the config. */
export function stateOptions (config: Config): { historyLength: number, historyMaxEntries: number, historyTtlSeconds: number, trendingHalfLifeSeconds: number, timeoutMs: number, eventIdTtlSeconds: number, eventIdCapacity: number } {
  return {
    historyLength: config.HISTORY_LENGTH,
    historyMaxEntries: config.HISTORY_MAX_ENTRIES,
    historyTtlSeconds: config.HISTORY_TTL_SECONDS,
    trendingHalfLifeSeconds: config.TRENDING_HALF_LIFE_SECONDS,
    timeoutMs: config.REDIS_TIMEOUT_MS,
    eventIdTtlSeconds: config.EVENT_ID_TTL_SECONDS,
    eventIdCapacity: config.EVENT_ID_CAPACITY,
  }
}

/**
 * Worker processes to run: WORKERS, else one per usable CPU (cores, capped by a container's CPU
 * quota). Without Redis the workers still share one state: the primary keeps their in-process
 * replicas in step (src/state/replication-hub.ts).
 */
export function workerCount (config: Pick<Config, 'WORKERS'>, cpus: () => number = usableCpus): number {
  return config.WORKERS ?? cpus()
}
export type ConfigInput = z.input<typeof ConfigSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const KEYS = Object.keys(ConfigSchema.shape) as (keyof typeof ConfigSchema.shape)[]

/**
 * Parses the variables this service knows from `env` (every other variable is ignored: a process
 * environment is full of unrelated keys). Empty strings count as unset, as in most shells' `X=`.
 */
export function loadConfig (env: Readonly<Record<string, string | undefined>>): Config {
  const picked: Record<string, string> = {}
  for (const key of KEYS) {
    const v = env[key]
    if (v !== undefined && v !== '') picked[key] = v
  }
  const result = ConfigSchema.safeParse(picked)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?')
    const got = picked[name]
    const shown = name === 'ADMIN_TOKEN' || name === 'REDIS_URL' ? '(hidden)' : JSON.stringify(got)
    return `  ${name}: ${issue.message} (got ${shown})`
  })
  return fail(`Invalid configuration:\n${lines.join('\n')}`)
}

function fail (message: string): never {
  throw new ConfigError(message)
}

/** A full config for tests and embedders: defaults plus the given overrides, validated the same way. */
export function createConfig (overrides: ConfigInput = {}): Config {
  return ConfigSchema.parse(overrides)
}
