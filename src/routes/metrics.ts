import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

const metrics: FastifyPluginAsyncZod = async (app) => {
  app.get('/metrics', {
    schema: {
      operationId: 'metrics',
      tags: ['operations'],
      summary: 'Prometheus text exposition format',
      response: { 200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } } },
    },
  }, async (_request, reply) => {
    const text = await app.metrics.exposition()
    return reply.type(app.metrics.registry.contentType).send(text)
  })
}

export default metrics
