import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { ItemParamsSchema, problems, RecommendationResponseSchema, SimilarQuerySchema } from './schemas.js'
import { activeRecommender, observed } from './serve.js'

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
  }, async (request) => {
    const rec = activeRecommender(app)
    return observed(app, rec, () => rec.similarItems(request.params.itemId, request.query))
  })
}

export default items
