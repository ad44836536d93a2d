import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemOf, toHttpProblem } from '../plugins/errors.js'
import type { Problem } from '../errors.js'
import { BatchBodySchema, BatchResponseSchema, problems, RecommendBodySchema, RecommendationResponseSchema } from './schemas.js'
import { activeRecommender, observed, recommendByBody, stateForBody } from './serve.js'
import type { RecommendationResult } from '../recommend/types.js'
import { HttpProblem } from '../errors.js'
import { withBatchJson } from '../recommend/result-cache.js'

/**
 * A batch may ask for at most this many items in total (the sum of its k): with MAX_BATCH it bounds
 * the work one request can bring, so a batch costs at most ~100 single requests (issue 7).
 */
export const MAX_BATCH_TOTAL_K = 10_000
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
  }, async (request) => {
    const rec = activeRecommender(app)
    const state = await stateForBody(app, rec, request.body)
    return observed(app, rec, () => recommendByBody(rec, request.body, state))
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
    // One read of the active model for the whole batch: every answer comes from the same version.
    const rec = activeRecommender(app)
    let totalK = 0
    for (const r of request.body.requests) totalK += r.k
    if (totalK > MAX_BATCH_TOTAL_K) {
      throw new HttpProblem('invalidParameters', `a batch may ask for at most ${MAX_BATCH_TOTAL_K} items in total (sum of k), got ${totalK}`, [{ name: 'body.requests', reason: `sum of k over ${MAX_BATCH_TOTAL_K}` }])
    }
    // Real-time state for every request first (pipelined by the Redis client), then the synchronous part.
    const states = await Promise.all(request.body.requests.map((body) => stateForBody(app, rec, body)))
    const results: (RecommendationResult | { error: Problem })[] = new Array(request.body.requests.length)
    for (let i = 0; i < results.length; i++) {
      if (i > 0 && i % BATCH_SLICE === 0) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        if (app.pressure.overBudget(reply)) return app.pressure.sendOverBudget(request, reply)
      }
      try {
        results[i] = observed(app, rec, () => recommendByBody(rec, request.body.requests[i], states[i]))
      } catch (err) {
        const known = toHttpProblem(err)
        if (known === null) throw err
        const problem = problemOf(known, request)
        if (problem.invalidParams) problem.invalidParams = problem.invalidParams.map((p) => ({ ...p, name: `body.requests.${i}.${p.name}` }))
        results[i] = { error: problem }
      }
    }
    return withBatchJson({ modelVersion: rec.model.version, results })
  })
}

export default recommendations
