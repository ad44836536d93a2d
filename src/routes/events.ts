/**
 * Event ingestion. A batch is checked event by event (src/realtime/events.ts), so one bad event
 * does not refuse the others; the accepted ones are stored in one write before the 202, and when
 * the state store cannot take them the whole request is a 503 with Retry-After: an event is
 * either acknowledged and durable, or refused and the client retries it.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { Counter } from 'prom-client'
import { HttpProblem } from '../errors.js'
import { validateEvents } from '../realtime/events.js'
import { EventsBodySchema, EventsResponseSchema, problems } from './schemas.js'
import { activeRecommender } from './serve.js'

/** Seconds a client waits before retrying a refused batch: ioredis reconnects within ~1 s. */
export const EVENTS_RETRY_AFTER_S = 1

const events: FastifyPluginAsyncZod = async (app) => {
  const counted = new Counter({
    name: 'hashrec_events_total',
    help: 'Events by outcome: accepted (stored), rejected (invalid, reported per index), refused (state store unavailable, 503).',
    labelNames: ['result'] as const,
    registers: [app.metrics.registry],
  })

  app.post('/v1/events', {
    schema: {
      operationId: 'recordEvents',
      tags: ['events'],
      summary: 'Record up to 1000 interaction events; they shape the next recommendation',
      body: EventsBodySchema,
      response: { 202: EventsResponseSchema, ...problems(400, 413, 415, 500, 503) },
    },
  }, async (request, reply) => {
    // The catalog of the serving model decides which item ids are known.
    const items = activeRecommender(app).model.items
    const { accepted, rejected } = validateEvents(request.body.events, (id) => items.rowOf(id) !== undefined, Date.now())
    if (accepted.length > 0) {
      try {
        await app.realtime.recordEvents(accepted)
      } catch (err) {
        if (err instanceof HttpProblem && err.key === 'stateUnavailable') {
          counted.labels('refused').inc(accepted.length)
          reply.header('retry-after', String(EVENTS_RETRY_AFTER_S))
        }
        throw err
      }
      counted.labels('accepted').inc(accepted.length)
    }
    if (rejected.length > 0) counted.labels('rejected').inc(rejected.length)
    return reply.code(202).send({ accepted: accepted.length, rejected })
  })
}

export default events
