import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { ItemParamsSchema, problems, RecommendationResponseSchema, SimilarQuerySchema } from './schemas.js'
import { activeRecommender, record } from './serve.js'

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
  }, (request) => {
    // Synchronous (fastify sends a plain return value, and turns a throw into the error reply).
    const rec = activeRecommender(app)
    const started = performance.now()
    const cachedBefore = rec.stats.resultCached
    return record(app, rec, started, cachedBefore, rec.similarItems(request.params.itemId, request.query))
  })
}

export default items
