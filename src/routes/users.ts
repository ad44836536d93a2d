import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problems, RecommendationResponseSchema, RecommendQuerySchema, UserParamsSchema } from './schemas.js'
import { activeRecommender, observed } from './serve.js'

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
  }, async (request) => {
    const rec = activeRecommender(app)
    const { userId } = request.params
    const q = request.query
    const state = await app.realtime.userState(rec, userId, q.excludeSeen, q.k)
    const result = observed(app, rec, () => rec.forUser(userId, q, state.context))
    // A copy: the answer may be one a cache keeps (frozen).
    return state.degraded ? { ...result, degraded: true } : result
  })
}

export default users
