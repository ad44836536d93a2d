/**
 * The serving facade (src/serving/serving.ts) as `app.serving`: the one call each recommendation
 * and event route makes, wired to the active model, the state store and the metrics.
 */
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { AnswerJson } from '../answer-json.js'
import { createServing, type Serving } from '../serving/serving.js'

declare module 'fastify' {
  interface FastifyInstance {
    serving: Serving<AnswerJson>
  }
}

export default fp<{ historyLength: number }>(async (app, options) => {
  const events = new Counter({
    name: 'hashrec_events_total',
    help: 'Events by outcome: accepted (stored), rejected (invalid, reported per index), refused (state store unavailable, 503).',
    labelNames: ['result'] as const,
    registers: [app.metrics.registry],
  })
  app.decorate('serving', createServing({
    models: app.modelStore,
    store: app.realtime.store,
    historyLength: options.historyLength,
    observe: app.metrics.observeRecommendation,
    degraded: app.realtime.degraded,
    events: (result, count) => { events.labels(result).inc(count) },
  }))
}, { name: 'hashrec-serving', dependencies: ['hashrec-metrics', 'hashrec-model-store', 'hashrec-state'], fastify: '5.x' })
