import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

const docs: FastifyPluginAsyncZod = async (app) => {
  app.get('/openapi.yaml', {
    schema: {
      operationId: 'openapi',
      tags: ['operations'],
      summary: 'This contract (interactive docs at /docs)',
      response: { 200: { description: 'OpenAPI 3.1 document', content: { 'application/yaml': { schema: z.string() } } } },
    },
  }, async (_request, reply) => reply.type('application/yaml; charset=utf-8').send(app.openapiText))
}

export default docs
