/**
 * Event ingestion. A batch is checked event by event (src/realtime/events.ts), so one bad event
 * does not refuse the others; the accepted ones are stored in one write before the 202, and when
 * the state store cannot take them in time the whole request is a 503 with Retry-After. A 202 is
 * durable; a 503 may or may not have been stored (a timed-out write can still land), so clients
 * retry it with the same eventIds, which the stores recognize and do not apply twice.
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
    help: 'Events by outcome: accepted (stored), duplicate (eventId stored before: acknowledged, not applied again), rejected (invalid, reported per index), refused (503: the state store did not confirm in time; may have been stored).',
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
    let duplicates = 0
    if (accepted.length > 0) {
      try {
        duplicates = (await app.realtime.recordEvents(accepted)).duplicates.length
      } catch (err) {
        if (err instanceof HttpProblem && err.key === 'stateUnavailable') {
          counted.labels('refused').inc(accepted.length)
          reply.header('retry-after', String(EVENTS_RETRY_AFTER_S))
        }
        throw err
      }
      if (accepted.length > duplicates) counted.labels('accepted').inc(accepted.length - duplicates)
      if (duplicates > 0) counted.labels('duplicate').inc(duplicates)
    }
    if (rejected.length > 0) counted.labels('rejected').inc(rejected.length)
    return reply.code(202).send({ accepted: accepted.length, duplicates, rejected })
  })
}

export default events
