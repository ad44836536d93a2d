/**
 * Per-client rate limiting (@fastify/rate-limit), on only when RATE_LIMIT_MAX is set. The client
 * key is the `x-api-key` header when present, else the client IP. With REDIS_URL the counters live
 * in Redis (the plugin's Redis store), so the limit holds across replicas; otherwise in process.
 * A Redis failure lets the request through (skipOnError): the limiter protects the service, it must
 * not take it down with Redis. Operational routes (health, readiness, metrics) are never limited.
 */
import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { HttpProblem } from '../errors.js'

export interface RateLimitOptions {
  readonly config: Config
}

const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics'])
/** Keys are bounded so a client cannot grow Redis keys or the in-process LRU with huge headers. */
const MAX_KEY_LENGTH = 128

export function clientKey (apiKey: string | string[] | undefined, ip: string): string {
  const key = Array.isArray(apiKey) ? apiKey[0] : apiKey
  return key !== undefined && key.length > 0 ? `k:${key.slice(0, MAX_KEY_LENGTH)}` : `ip:${ip}`
}

export default fp<RateLimitOptions>(async (app, options) => {
  const { config } = options
  if (config.RATE_LIMIT_MAX === undefined) return
  let redis: Redis | undefined
  if (config.REDIS_URL !== undefined) {
    redis = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // The same per-call budget as the state store: a slow Redis lets the request through, late.
      commandTimeout: config.REDIS_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(50 * times, 1000),
    })
    redis.on('error', () => {})
    const client = redis
    app.addHook('onClose', async () => { client.disconnect() })
  }
  await app.register(rateLimit, {
    global: true,
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    ...(redis === undefined ? {} : { redis, nameSpace: `${config.REDIS_KEY_PREFIX}rl:` }),
    skipOnError: true,
    keyGenerator: (request) => clientKey(request.headers['x-api-key'], request.ip),
    allowList: (request) => UNLIMITED.has(request.url.split('?', 1)[0]),
    errorResponseBuilder: (_request, context) => new HttpProblem('rateLimited', `at most ${context.max} requests per ${context.after}; retry after the Retry-After delay`),
  })
}, { name: 'hashrec-rate-limit', dependencies: ['hashrec-errors'], fastify: '5.x' })
