/**
 * Items: their neighbours, their catalog state, and the catalog rules product teams set on them
 * (availability, tags, boost; src/state/item-rules.ts). A rule change is stored in the state store
 * and applied in this process before the answer; every other replica applies it from the store
 * within a second (src/state/README.md).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { servedReply } from '../answer-json.js'
import { requireBearer } from './bearer.js'
import { ItemParamsSchema, ItemPatchSchema, ItemStateSchema, problems, RecommendationResponseSchema, SimilarQuerySchema } from './schemas.js'

const items: FastifyPluginAsyncZod<{ token?: string }> = async (app, options) => {
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

  app.get('/v1/items/:itemId', {
    schema: {
      operationId: 'getItem',
      tags: ['catalog'],
      summary: 'An item as the active catalog sees it: availability, effective and model tags, boost, the rule in force',
      params: ItemParamsSchema,
      response: { 200: ItemStateSchema, ...problems(400, 404, 500, 503) },
    },
  }, (request) => app.serving.item(request.params.itemId))

  app.patch('/v1/items/:itemId', {
    // With ADMIN_TOKEN set, rule changes need it: they change what every user is shown.
    ...(options.token === undefined ? {} : { onRequest: requireBearer(options.token) }),
    schema: {
      operationId: 'patchItem',
      tags: ['catalog'],
      summary: 'Set an item\'s availability, tags and boost (merge patch: null returns a field to the model\'s default)',
      ...(options.token === undefined ? {} : { security: [{ bearerAuth: [] }] }),
      params: ItemParamsSchema,
      body: ItemPatchSchema,
      response: { 200: ItemStateSchema, ...problems(400, 401, 404, 413, 415, 500, 503) },
    },
  }, (request) => app.serving.patchItem(request.params.itemId, request.body))
}

export default items
