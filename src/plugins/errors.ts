/**
 * Every error leaves as RFC 9457 problem+json with a stable `type` from src/errors.ts: request
 * validation -> 400, fastify's body errors -> 400/413/415, domain errors -> their 4xx, anything
 * else -> logged in full and answered with a generic 500 that carries no stack or message.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { BundleError } from '../model-loader/errors.js'
import { HttpProblem, PROBLEMS, problemType, type Problem, type ProblemKey } from '../errors.js'
import { IncompatibleQueryError, UnknownItemError } from '../recommend/errors.js'
import { StateUnavailableError } from '../state/errors.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** Seconds a client waits before retrying what the state store refused: ioredis reconnects within ~1 s. */
export const STATE_RETRY_AFTER_S = 1

const CONTEXT_NAMES: Record<string, string> = { querystring: 'query', params: 'path', body: 'body', headers: 'header' }

/** fastify's own error codes for bodies it cannot take, by the problem they are. */
const FASTIFY_CODES: Record<string, ProblemKey> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payloadTooLarge',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupportedMediaType',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformedBody',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformedBody',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformedBody',
  FST_ERR_BAD_URL: 'invalidParameters',
  FST_ERR_ASYNC_CONSTRAINT: 'invalidParameters',
}

export function toHttpProblem (error: unknown): HttpProblem | null {
  if (error instanceof HttpProblem) return error
  if (error instanceof UnknownItemError) return new HttpProblem('unknownItem', error.message)
  if (error instanceof IncompatibleQueryError) return new HttpProblem('incompatibleQuery', error.message, [{ name: error.field, reason: error.message }])
  if (error instanceof BundleError) return new HttpProblem('invalidBundle', error.message)
  if (error instanceof StateUnavailableError) return new HttpProblem('stateUnavailable', error.message)
  const e = error as Partial<FastifyError>
  if (Array.isArray(e.validation)) {
    const where = CONTEXT_NAMES[e.validationContext ?? ''] ?? String(e.validationContext ?? 'request')
    const invalidParams = e.validation.map((v) => ({
      name: where + (v.instancePath ? v.instancePath.replace(/\//g, '.').replace(/\.$/, '') : ''),
      reason: v.message ?? 'invalid',
    }))
    return new HttpProblem('invalidParameters', invalidParams.map((p) => `${p.name}: ${p.reason}`).join('; '), invalidParams)
  }
  if (typeof e.code === 'string' && e.code in FASTIFY_CODES) {
    const key = FASTIFY_CODES[e.code]
    // fastify's messages here describe the request (sizes, media types), never our internals.
    return new HttpProblem(key, e.message)
  }
  // Any other client error fastify raises (e.g. a malformed header) keeps its status.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 && typeof e.code === 'string' && e.code.startsWith('FST_')) {
    const key = (Object.keys(PROBLEMS) as ProblemKey[]).find((k) => PROBLEMS[k].status === e.statusCode) ?? 'invalidParameters'
    return new HttpProblem(key, e.message)
  }
  return null
}

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  // A string payload skips response serialization, so the problem body is exactly this object.
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem))
}

export function problemOf (error: HttpProblem, request: FastifyRequest): Problem {
  return error.toProblem(request.url.split('?', 1)[0], String(request.id))
}

export default fp(async (app) => {
  app.setErrorHandler((error, request, reply) => {
    const known = toHttpProblem(error)
    if (known) {
      if (known.status >= 500) request.log.error({ err: error }, 'request failed')
      if (known.key === 'stateUnavailable') reply.header('retry-after', String(STATE_RETRY_AFTER_S))
      return sendProblem(reply, problemOf(known, request))
    }
    request.log.error({ err: error }, 'unhandled error')
    const internal: Problem = {
      type: problemType('internal'),
      title: PROBLEMS.internal.title,
      status: 500,
      detail: 'the error was logged with this request id',
      instance: request.url.split('?', 1)[0],
      requestId: String(request.id),
    }
    return sendProblem(reply, internal)
  })

  app.setNotFoundHandler((request, reply) => {
    const p = new HttpProblem('notFound', `no route ${request.method} ${request.url.split('?', 1)[0]}`)
    return sendProblem(reply, problemOf(p, request))
  })
}, { name: 'hashrec-errors', fastify: '5.x' })
