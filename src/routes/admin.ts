/**
 * Operator routes. Registered only when ADMIN_TOKEN is configured; every request must carry
 * `Authorization: Bearer <token>`, checked before the body is parsed.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { requireBearer } from './bearer.js'
import { modelInfo } from './model-info.js'
import { problems, ReloadBodySchema, ReloadResponseSchema } from './schemas.js'

const admin: FastifyPluginAsyncZod<{ token: string }> = async (app, options) => {
  app.addHook('onRequest', requireBearer(options.token))

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
