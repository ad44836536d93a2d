import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { PROBLEMS, problemType } from '../errors.js'
import { PROBLEM_CONTENT_TYPE } from '../plugins/errors.js'
import { HealthSchema, NotReadyProblemSchema, ReadySchema } from './schemas.js'

const health: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', {
    schema: {
      operationId: 'healthz',
      tags: ['operations'],
      summary: 'Liveness: the process is up',
      response: { 200: HealthSchema },
    },
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      operationId: 'readyz',
      tags: ['operations'],
      summary: 'Readiness: a model is loaded and the process is not draining; a dependency down only degrades it',
      response: {
        200: ReadySchema,
        503: { description: 'Not ready', content: { 'application/problem+json': { schema: NotReadyProblemSchema } } },
      },
    },
  }, async (request, reply) => {
    const checks = await app.readiness.run()
    const active = app.modelStore.active
    const draining = app.readiness.phase !== 'serving'
    // Dependencies degrade (recommendations come from the model alone); only these make it unready.
    if (active !== null && !draining) return { status: 'ready' as const, degraded: checks.some((c) => !c.ok), modelVersion: active.model.version, checks }
    const failing = [...(active === null ? ['no model loaded'] : []), ...(draining ? ['draining: the process is shutting down'] : [])]
    const body = {
      type: problemType('notReady'),
      title: PROBLEMS.notReady.title,
      status: 503,
      detail: failing.join('; '),
      instance: '/readyz',
      requestId: String(request.id),
      checks,
    }
    return reply.code(503).type(PROBLEM_CONTENT_TYPE).send(body)
  })
}

export default health
