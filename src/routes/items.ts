import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { servedReply } from '../answer-json.js'
import { ItemParamsSchema, problems, RecommendationResponseSchema, SimilarQuerySchema } from './schemas.js'

const items: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/items/:itemId/similar', {
    schema: {
      operationId: 'similarItems',
      tags: ['recommendations'],
      summary: 'Items near an item, the item itself excluded',
      params: ItemParamsSchema,
      querystring: SimilarQuerySchema,
      response: { 200: RecommendationResponseSchema, ...problems(400, 404, 500, 503) },
    },
  }, (request) => servedReply(app.serving.similar(request.params.itemId, request.query)))
}

export default items
