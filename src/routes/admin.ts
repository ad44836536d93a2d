/**
 * Operator routes. Registered only when ADMIN_TOKEN is configured; every request must carry
 * `Authorization: Bearer <token>`, checked before the body is parsed.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { HttpProblem } from '../errors.js'
import { modelInfo } from './model-info.js'
import { problems, ReloadBodySchema, ReloadResponseSchema } from './schemas.js'

// Comparing digests makes the comparison constant time in the token's length as well as its bytes.
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

const admin: FastifyPluginAsyncZod<{ token: string }> = async (app, options) => {
  const expected = digest(options.token)
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null
    if (match === null || !timingSafeEqual(digest(match[1]), expected)) {
      reply.header('www-authenticate', 'Bearer realm="hashrec-admin"')
      throw new HttpProblem('unauthorized', match === null ? 'an Authorization: Bearer header is required' : 'the bearer token is not valid')
    }
  })

  app.post('/admin/model/reload', {
    schema: {
      operationId: 'reloadModel',
      tags: ['admin'],
      summary: 'Load a bundle from a directory under the models root, validate it, and swap it in',
      security: [{ bearerAuth: [] }],
      body: ReloadBodySchema,
      response: { 200: ReloadResponseSchema, ...problems(400, 401, 404, 409, 413, 415, 422, 500) },
    },
  }, async (request) => {
    const outcome = await app.modelStore.reload(request.body.dir)
    request.log.info({ from: outcome.previous?.version ?? null, to: outcome.active.model.version, ms: Math.round(outcome.durationMs) }, 'model swapped')
    // Every replica follows (src/serving/model-rollout.ts); a replica that starts later loads the recorded one.
    const announced = await app.realtime.announce(outcome.active.model)
    return { previousVersion: outcome.previous?.version ?? null, durationMs: outcome.durationMs, announced, model: modelInfo(outcome.active) }
  })
}

export default admin
