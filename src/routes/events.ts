/**
 * Event ingestion. A batch is checked event by event (src/realtime/events.ts), so one bad event
 * does not refuse the others; the accepted ones are stored in one write before the 202, and when
 * the state store cannot take them the whole request is a 503 with Retry-After: an event is
 * either acknowledged and durable, or refused and the client retries it.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { EventsBodySchema, EventsResponseSchema, problems } from './schemas.js'

const events: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/events', {
    schema: {
      operationId: 'recordEvents',
      tags: ['events'],
      summary: 'Record up to 1000 interaction events; they shape the next recommendation',
      body: EventsBodySchema,
      response: { 202: EventsResponseSchema, ...problems(400, 413, 415, 500, 503) },
    },
  }, async (request, reply) => reply.code(202).send(await app.serving.ingest(request.body.events)))
}

export default events
