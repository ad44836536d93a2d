/**
 * Builds the fastify app; never listens (src/index.ts does, tests call `inject`). Everything the
 * app needs comes in through `AppOptions`, so tests build apps from literal configs and models.
 */
import { randomBytes } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { checkedSerializerCompiler, plainSerializerCompiler } from './answer-json.js'
import type { Config } from './config.js'
import { HttpProblem } from './errors.js'
import { loadModel as loadBundle } from './model-loader/load-bundle.js'
import type { Model } from './model-loader/model.js'
import corsPlugin from './plugins/cors.js'
import demoPlugin from './plugins/demo.js'
import docsPlugin from './plugins/docs.js'
import errorsPlugin, { problemOf, sendProblem, toHttpProblem } from './plugins/errors.js'
import metricsPlugin from './plugins/metrics.js'
import modelStorePlugin from './plugins/model-store.js'
import pressurePlugin, { type PressureOptions } from './plugins/pressure.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import readinessPlugin from './plugins/readiness.js'
import servingPlugin from './plugins/serving.js'
import statePlugin, { type RealtimeState } from './plugins/state.js'
import { memoizedQueryValidator } from './query-validation.js'
import { lazyChildLogger } from './request-logger.js'
import type { RecommenderEngines } from './recommend/types.js'
import { createModelEngines } from './search/engines.js'
import type { StateStore } from './state/types.js'
import adminRoutes from './routes/admin.js'
import docsRoutes from './routes/docs.js'
import eventRoutes from './routes/events.js'
import healthRoutes from './routes/health.js'
import itemRoutes from './routes/items.js'
import metricsRoutes from './routes/metrics.js'
import modelRoutes from './routes/model.js'
import recommendationRoutes from './routes/recommendations.js'
import userRoutes from './routes/users.js'

export interface AppOptions {
  readonly config: Config
  /** The model to serve from the start; null serves nothing until a reload (and /readyz says 503). */
  readonly model: Model | null
  /** Builds the retrieval engines for a model, once per load (default: src/search/engines.ts). */
  readonly createEngines?: (model: Model) => RecommenderEngines
  readonly loadModel?: (dir: string) => Promise<Model>
  /** pino options, or false for none (tests). */
  readonly logger?: FastifyServerOptions['logger']
  /** 'generated' builds the spec from the zod schemas (the openapi agreement test). */
  readonly openapi?: 'static' | 'generated'
  /** Overrides of the load-shedding settings taken from config (tests: a short sample interval). */
  readonly pressure?: Partial<PressureOptions>
  /** A real-time state store opened (and closed) by the caller; default: Redis from REDIS_URL, else in-process. */
  readonly stateStore?: StateStore
}

/** Accepted incoming request ids: short and printable, so a client cannot inject into the logs. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Request ids made here: 72 random bits per app (12 base64url characters, drawn once) and a
 * counter, so ids are unique across workers, replicas and restarts. A UUID per request built its
 * string from ~20 concatenations, ~0.6 KB of garbage per request (sampled allocation profile of
 * the app answering one user over and over) for the scavenger to sweep on a path where a kept
 * answer costs tens of microseconds.
 */
export function requestIdSource (): () => string {
  const prefix = `${randomBytes(9).toString('base64url')}-`
  let n = 0
  return () => prefix + (++n).toString(36)
}

/** pino JSON to stdout with request ids; secrets redacted; pretty only on a TTY (or LOG_PRETTY). */
export function loggerOptions (config: Config, stream?: { write (line: string): void }): FastifyServerOptions['logger'] {
  const pretty = stream === undefined && (config.LOG_PRETTY ?? process.stdout.isTTY === true)
  return {
    level: config.LOG_LEVEL,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
    ...(stream ? { stream } : {}),
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  }
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  const nextRequestId = requestIdSource()
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: config.BODY_LIMIT,
    // node's http server answers 408 when a request is not fully received within the budget.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    // find-my-way's default of 100 characters would turn a long id into a 404; the id schema says 400.
    routerOptions: { maxParamLength: 16 * 1024 },
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: !config.LOG_REQUESTS }),
    // URLs that fail to decode never reach a route or the error handler: answer them as problems here.
    frameworkErrors: (error, request, reply) => {
      const problem = toHttpProblem(error) ?? new HttpProblem('invalidParameters', 'the request URL could not be decoded')
      return sendProblem(reply, problemOf(problem, request))
    },
    childLoggerFactory: lazyChildLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId()
    },
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(memoizedQueryValidator(validatorCompiler))
  // Every response checked against its zod schema (a 500 when one disagrees) in tests and
  // development; production serializes without (VALIDATE_RESPONSES).
  app.setSerializerCompiler(config.VALIDATE_RESPONSES ? checkedSerializerCompiler(serializerCompiler) : plainSerializerCompiler)
  // Bodies are JSON only: without this fastify parses text/plain and the body schema answers 400, not 415.
  app.removeContentTypeParser('text/plain')
  app.addHook('onRequest', (request, reply, done) => { reply.header('x-request-id', request.id); done() })

  await app.register(errorsPlugin)
  await app.register(metricsPlugin)
  await app.register(pressurePlugin, {
    maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.MAX_HEAP_USED_BYTES,
    maxRssBytes: config.MAX_RSS_BYTES,
    retryAfterS: config.RETRY_AFTER_S,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    ...options.pressure,
  })
  await app.register(readinessPlugin)
  await app.register(modelStorePlugin, {
    modelsRoot: config.MODELS_ROOT,
    initial: options.model,
    loadModel: options.loadModel ?? ((dir) => loadBundle(dir)),
    createEngines: options.createEngines ?? ((model) => createModelEngines(model, { candidates: config.HYBRID_CANDIDATES, hybridCodesPerCandidate: config.HYBRID_CODES_PER_CANDIDATE, hybridPrefilter: config.HYBRID_INT8_PREFILTER, backgroundBuild: true })),
    hybridCandidates: config.HYBRID_CANDIDATES,
    foldInCacheBytes: config.FOLD_IN_CACHE_BYTES,
    resultCacheBytes: config.RESULT_CACHE_BYTES,
    warmUp: { users: config.WARM_UP_USERS, seconds: config.WARM_UP_SECONDS, k: config.WARM_UP_K, method: config.WARM_UP_METHOD },
    // The state store opens after the first model is activated; recommenders read its rules from then on.
    rules: () => (app as { realtime?: RealtimeState }).realtime?.store.rules,
  })
  await app.register(statePlugin, { config, store: options.stateStore })
  await app.register(servingPlugin, { historyLength: config.HISTORY_LENGTH })
  await app.register(corsPlugin, { origins: config.CORS_ORIGINS })
  await app.register(rateLimitPlugin, { config })
  await app.register(docsPlugin, { mode: options.openapi ?? 'static' })
  await app.register(demoPlugin)

  await app.register(userRoutes)
  await app.register(recommendationRoutes)
  await app.register(eventRoutes)
  await app.register(itemRoutes, { token: config.ADMIN_TOKEN })
  await app.register(modelRoutes)
  if (config.ADMIN_TOKEN !== undefined) await app.register(adminRoutes, { token: config.ADMIN_TOKEN })
  await app.register(healthRoutes)
  await app.register(metricsRoutes)
  await app.register(docsRoutes)
  return app
}
