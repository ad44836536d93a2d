import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { HttpProblem } from '../errors.js'
import { modelInfo } from './model-info.js'
import { ModelInfoSchema, problems } from './schemas.js'

const model: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/model', {
    schema: {
      operationId: 'getModel',
      tags: ['model'],
      summary: 'The active model: id, version, counts, hashing, index parameters, training metrics, load time',
      response: { 200: ModelInfoSchema, ...problems(500, 503) },
    },
  }, async () => {
    const active = app.modelStore.active
    if (active === null) throw new HttpProblem('notReady', 'no model is loaded yet')
    return modelInfo(active)
  })
}

export default model
