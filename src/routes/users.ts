import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { servedReply } from '../answer-json.js'
import { problems, RecommendationResponseSchema, RecommendQuerySchema, UserParamsSchema } from './schemas.js'

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
    // In-process state answers at once: the body is returned without a promise (fastify sends a
    // handler's plain return value), the common case of a single worker or a cluster without Redis.
    const served = app.serving.forUser(request.params.userId, request.query)
    return served instanceof Promise ? served.then(servedReply) : servedReply(served)
  })
}

export default users
