import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemOf, toHttpProblem } from '../plugins/errors.js'
import type { Problem } from '../errors.js'
import { BatchBodySchema, BatchResponseSchema, problems, RecommendBodySchema, RecommendationResponseSchema } from './schemas.js'
import { activeRecommender, observed, recommendByBody } from './serve.js'
import type { RecommendationResult } from '../recommend/types.js'

const recommendations: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/recommendations', {
    schema: {
      operationId: 'recommend',
      tags: ['recommendations'],
      summary: 'Top-K items for a user id, a session (item ids), a raw vector or a hex code',
      body: RecommendBodySchema,
      response: { 200: RecommendationResponseSchema, ...problems(400, 413, 415, 422, 500, 503) },
    },
  }, async (request) => {
    const rec = activeRecommender(app)
    return observed(app, () => recommendByBody(rec, request.body))
  })

  app.post('/v1/recommendations/batch', {
    schema: {
      operationId: 'recommendBatch',
      tags: ['recommendations'],
      summary: 'Up to 100 recommendation requests, answered in order on one model version',
      body: BatchBodySchema,
      response: { 200: BatchResponseSchema, ...problems(400, 413, 415, 500, 503) },
    },
  }, async (request) => {
    // One read of the active model for the whole batch: every answer comes from the same version.
    const rec = activeRecommender(app)
    const results: (RecommendationResult | { error: Problem })[] = new Array(request.body.requests.length)
    for (let i = 0; i < results.length; i++) {
      try {
        results[i] = observed(app, () => recommendByBody(rec, request.body.requests[i]))
      } catch (err) {
        const known = toHttpProblem(err)
        if (known === null) throw err
        const problem = problemOf(known, request)
        if (problem.invalidParams) problem.invalidParams = problem.invalidParams.map((p) => ({ ...p, name: `body.requests.${i}.${p.name}` }))
        results[i] = { error: problem }
      }
    }
    return { modelVersion: rec.model.version, results }
  })
}

export default recommendations
