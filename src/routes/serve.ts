/** Glue shared by the recommendation routes: the active recommender, timing, body -> domain call. */
import type { FastifyInstance } from 'fastify'
import type { z } from 'zod'
import { HttpProblem } from '../errors.js'
import type { Recommender } from '../recommend/recommender.js'
import type { RecommendationResult } from '../recommend/types.js'
import type { RecommendBodySchema } from './schemas.js'

export function activeRecommender (app: FastifyInstance): Recommender {
  const active = app.modelStore.active
  if (active === null) throw new HttpProblem('notReady', 'no model is loaded yet')
  return active
}

/** Runs one recommendation and records its latency and work under the method actually served. */
export function observed (app: FastifyInstance, run: () => RecommendationResult): RecommendationResult {
  const started = performance.now()
  const result = run()
  app.metrics.observeRecommendation(result.method, (performance.now() - started) / 1000, result.candidatesExamined)
  return result
}

export function recommendByBody (rec: Recommender, body: z.output<typeof RecommendBodySchema>): RecommendationResult {
  const opts = { k: body.k, method: body.method, exclude: body.exclude, ef: body.ef }
  if (body.userId !== undefined) return rec.forUser(body.userId, opts)
  if (body.itemIds !== undefined) return rec.forSession({ itemIds: body.itemIds }, opts)
  if (body.vector !== undefined) return rec.forSession({ vector: body.vector }, opts)
  return rec.forSession({ code: body.code! }, opts)
}
