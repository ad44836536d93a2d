/**
 * The active model slot (src/serving/model-slot.ts) as `app.modelStore`, its recommenders keeping
 * answers as their response JSON (src/answer-json.ts), with metrics and logs of swaps, reloads
 * and warm-ups.
 */
import fp from 'fastify-plugin'
import { ANSWER_JSON, type AnswerJson } from '../answer-json.js'
import { createModelSlot, type ModelSlot, type ModelSlotOptions } from '../serving/model-slot.js'

export type ModelStoreOptions = Omit<ModelSlotOptions<AnswerJson>, 'form'>

declare module 'fastify' {
  interface FastifyInstance {
    modelStore: ModelSlot<AnswerJson>
  }
}

export default fp<ModelStoreOptions>(async (app, options) => {
  const slot = createModelSlot({ ...options, form: ANSWER_JSON }, {
    activated: (rec) => app.metrics.setModel(rec.model, rec.engines.stats, rec.stats),
    reloaded: (result) => app.metrics.reload(result),
    warmed: (rec, report) => {
      app.metrics.warmUp(report)
      const fields = { model: rec.model.id, version: rec.model.version, answers: report.answers, ms: Math.round(report.ms), stoppedBy: report.stoppedBy }
      if (report.error !== undefined) app.log.warn({ ...fields, err: report.error }, 'warming answers stopped at an error')
      else if (report.stoppedBy !== 'off') app.log.info(fields, 'warmed answers')
    },
  })
  app.decorate('modelStore', slot)
}, { name: 'hashrec-model-store', dependencies: ['hashrec-metrics'], fastify: '5.x' })
