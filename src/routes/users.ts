import type { FastifyInstance } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import type { UserState } from '../plugins/state.js'
import type { Recommender } from '../recommend/recommender.js'
import type { RecommendationResult } from '../recommend/types.js'
import { problems, RecommendationResponseSchema, RecommendQuerySchema, UserParamsSchema } from './schemas.js'
import { activeRecommender, record } from './serve.js'

type Query = z.output<typeof RecommendQuerySchema>

function answer (app: FastifyInstance, rec: Recommender, userId: string, q: Query, state: UserState): RecommendationResult {
  const started = performance.now()
  const cachedBefore = rec.stats.resultCached
  const result = record(app, rec, started, cachedBefore, rec.forUser(userId, q, state.context))
  // A copy: the answer may be one a cache keeps (frozen).
  return state.degraded ? { ...result, degraded: true } : result
}

const users: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/users/:userId/recommendations', {
    schema: {
      operationId: 'recommendForUser',
      tags: ['recommendations'],
      summary: 'Top-K items for a user',
      params: UserParamsSchema,
      querystring: RecommendQuerySchema,
      response: { 200: RecommendationResponseSchema, ...problems(400, 500, 503) },
    },
  }, (request) => {
    const rec = activeRecommender(app)
    const { userId } = request.params
    const q = request.query
    // In-process state answers at once: the answer is returned without a promise (fastify sends
    // a handler's plain return value), the common case of a single worker or a cluster without Redis.
    const now = app.realtime.userStateNow(rec, userId, q.excludeSeen, q.k)
    if (now !== undefined) return answer(app, rec, userId, q, now)
    return app.realtime.userState(rec, userId, q.excludeSeen, q.k).then((state) => answer(app, rec, userId, q, state))
  })
}

export default users
