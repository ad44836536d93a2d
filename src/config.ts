/**
 * Process configuration from environment variables, validated once at startup (never at import
 * time, so tests build apps from literal objects). The message of a bad variable names it.
 */
import { z } from 'zod'

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
  /** close-with-grace delay: below Docker's default 10 s stop grace period so the drain finishes first. */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(8000),
  /** Hybrid: Hamming candidates re-ranked by inner product. */
  HYBRID_CANDIDATES: z.coerce.number().int().min(1).max(100_000).default(200),
  /** Reserved for the Redis issue: validated now so a typo fails at startup rather than later. */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Validate every response against its schema before sending (tests, development): ~40% more CPU per cheap request. */
  VALIDATE_RESPONSES: Bool.default(false),
  /** Pretty logs; defaults to on only when stdout is a TTY. */
  LOG_PRETTY: Bool.optional(),
})

export type Config = z.infer<typeof ConfigSchema>
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
    const shown = name === 'ADMIN_TOKEN' ? '(hidden)' : JSON.stringify(got)
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
