import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { HttpProblem } from '../errors.js'
import type { Model } from '../model-loader/model.js'
import { modelInfo } from './model-info.js'
import { ModelInfoSchema, problems } from './schemas.js'

/** The trainer writes eval.svg beside the bundle; read once per model (null: the bundle has none). */
const evalCharts = new WeakMap<Model, Promise<string | null>>()

function evalChart (model: Model): Promise<string | null> {
  let chart = evalCharts.get(model)
  if (chart === undefined) {
    chart = readFile(join(model.dir, 'eval.svg'), 'utf8').catch(() => null)
    evalCharts.set(model, chart)
  }
  return chart
}

const model: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/model', {
    schema: {
      operationId: 'getModel',
      tags: ['model'],
      summary: 'The active model: id, version, counts, hashing, index parameters, training metrics, load time, catalog',
      response: { 200: ModelInfoSchema, ...problems(500, 503) },
    },
  }, async () => {
    const active = app.modelStore.active
    if (active === null) throw new HttpProblem('notReady', 'no model is loaded yet')
    return modelInfo(active)
  })

  app.get('/v1/model/eval.svg', {
    schema: {
      operationId: 'getModelEvaluationChart',
      tags: ['model'],
      summary: 'The trainer\'s evaluation chart of the active model (eval.svg in the bundle)',
      response: { 200: { description: 'SVG image', content: { 'image/svg+xml': { schema: z.string() } } }, ...problems(404, 500, 503) },
    },
  }, async (_request, reply) => {
    const active = app.modelStore.active
    if (active === null) throw new HttpProblem('notReady', 'no model is loaded yet')
    const chart = await evalChart(active.model)
    if (chart === null) throw new HttpProblem('notFound', 'the active model\'s bundle has no eval.svg')
    return reply.type('image/svg+xml').header('cache-control', 'no-cache').send(chart)
  })
}

export default model
