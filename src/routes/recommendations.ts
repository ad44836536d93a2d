import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { batchReply, servedReply } from '../answer-json.js'
import type { Problem } from '../errors.js'
import type { RecommendationResult } from '../recommend/types.js'
import { problemOf, toHttpProblem } from '../plugins/errors.js'
import { BatchBodySchema, BatchResponseSchema, problems, RecommendBodySchema, RecommendationResponseSchema } from './schemas.js'

/**
 * A batch yields to the event loop after this many entries, so single requests queued behind it are
 * served in between rather than after the whole batch (100 hybrid queries on a 1M-item catalog hold
 * the loop ~90 ms; 10 of them ~9 ms), and checks the request's time budget.
 */
const BATCH_SLICE = 10

const recommendations: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/recommendations', {
    schema: {
      operationId: 'recommend',
      tags: ['recommendations'],
      summary: 'Top-K items for a user id, a session (item ids), a raw vector or a hex code',
      body: RecommendBodySchema,
      response: { 200: RecommendationResponseSchema, ...problems(400, 413, 415, 422, 500, 503) },
    },
  }, (request) => {
    const served = app.serving.forBody(request.body)
    return served instanceof Promise ? served.then(servedReply) : servedReply(served)
  })

  app.post('/v1/recommendations/batch', {
    schema: {
      operationId: 'recommendBatch',
      tags: ['recommendations'],
      summary: 'Up to 100 recommendation requests, answered in order on one model version',
      body: BatchBodySchema,
      response: { 200: BatchResponseSchema, ...problems(400, 413, 415, 500, 503) },
    },
  }, async (request, reply) => {
    const bodies = request.body.requests
    const batch = await app.serving.batch(bodies)
    const results: Array<RecommendationResult | { error: Problem }> = new Array(bodies.length)
    for (let i = 0; i < results.length; i++) {
      if (i > 0 && i % BATCH_SLICE === 0) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        if (app.pressure.overBudget(reply)) return app.pressure.sendOverBudget(request, reply)
      }
      try {
        results[i] = servedReply(batch.answer(i))
      } catch (err) {
        const known = toHttpProblem(err)
        if (known === null) throw err
        const problem = problemOf(known, request)
        if (problem.invalidParams) problem.invalidParams = problem.invalidParams.map((p) => ({ ...p, name: `body.requests.${i}.${p.name}` }))
        results[i] = { error: problem }
      }
    }
    return batchReply(batch.modelVersion, results)
  })
}

export default recommendations
