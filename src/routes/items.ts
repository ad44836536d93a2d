/**
 * Items: their neighbours, their catalog state, and the catalog rules product teams set on them
 * (availability, tags, boost; src/state/item-rules.ts). A rule change is stored in the state store
 * and applied in this process before the answer; every other replica applies it from the store
 * (within a second: src/state/README.md).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { HttpProblem } from '../errors.js'
import type { Recommender } from '../recommend/recommender.js'
import { EVENTS_RETRY_AFTER_S } from './events.js'
import { requireBearer } from './bearer.js'
import { ItemParamsSchema, ItemPatchSchema, ItemStateSchema, problems, RecommendationResponseSchema, SimilarQuerySchema } from './schemas.js'
import { activeRecommender, record } from './serve.js'
import type { z } from 'zod'

/** The item's state in the active catalog, or 404 unknown-item. */
function itemState (rec: Recommender, itemId: string): z.output<typeof ItemStateSchema> {
  const row = rec.model.items.rowOf(itemId)
  if (row === undefined) throw new HttpProblem('unknownItem', `item ${JSON.stringify(itemId)} is not in the catalog of the active model`)
  rec.catalog.sync()
  const state = rec.catalog.item(row)
  const title = rec.model.itemMeta.title(row)
  const out = { id: itemId, available: state.available, tags: [...state.tags], modelTags: [...state.modelTags], boost: state.boost, rule: state.rule }
  return title === undefined ? out : { ...out, title }
}

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
  }, (request) => {
    // Synchronous (fastify sends a plain return value, and turns a throw into the error reply).
    const rec = activeRecommender(app)
    const started = performance.now()
    const cachedBefore = rec.stats.resultCached
    return record(app, rec, started, cachedBefore, rec.similarItems(request.params.itemId, request.query))
  })

  app.get('/v1/items/:itemId', {
    schema: {
      operationId: 'getItem',
      tags: ['catalog'],
      summary: 'An item as the active catalog sees it: availability, effective and model tags, boost, the rule in force',
      params: ItemParamsSchema,
      response: { 200: ItemStateSchema, ...problems(400, 404, 500, 503) },
    },
  }, (request) => itemState(activeRecommender(app), request.params.itemId))

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
  }, async (request, reply) => {
    const { itemId } = request.params
    // Only items of the serving catalog: a rule for an id no model has would be a silent typo.
    if (activeRecommender(app).model.items.rowOf(itemId) === undefined) throw new HttpProblem('unknownItem', `item ${JSON.stringify(itemId)} is not in the catalog of the active model`)
    try {
      await app.realtime.patchItemRule(itemId, request.body)
    } catch (err) {
      if (err instanceof HttpProblem && err.key === 'stateUnavailable') reply.header('retry-after', String(EVENTS_RETRY_AFTER_S))
      throw err
    }
    // The store applied the change in this process before resolving: the active catalog shows it.
    return itemState(activeRecommender(app), itemId)
  })
}

export default items
