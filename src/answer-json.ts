/**
 * Recommendation answers as the HTTP layer sends them: each answer's JSON is made once, when it
 * is computed. The result cache keeps answers in this form (src/recommend/answer-form.ts), so a
 * hit is sent as the string it kept: one string of heap per answer instead of the result's ~25
 * objects and their JSON, about 1.8x less heap per answer, and leaves the major
 * GC far fewer objects to mark (heap per kept answer: npm run bench:cache-bytes, BENCHMARKS.md).
 */
import type { FastifySerializerCompiler } from 'fastify'
import type { Problem } from './errors.js'
import type { AnswerForm } from './recommend/answer-form.js'
import type { RecommendationResult, ServedMethod } from './recommend/types.js'
import type { Served } from './serving/serving.js'

/** A response body whose JSON, that of a T, is made already: the serializers below send it as it is. */
export class JsonBody<T> {
  declare private readonly of?: T
  constructor (readonly json: string) {}
}

/** A recommendation answer's JSON, with the two facts the serving layer's metrics read. */
export class AnswerJson extends JsonBody<RecommendationResult> {
  constructor (json: string, readonly method: ServedMethod, readonly candidatesExamined: number) {
    super(json)
  }

  /** This answer with `degraded: true` (the state store failed), as JSON.stringify({ ...result, degraded: true }) writes it. */
  degraded (): JsonBody<RecommendationResult> {
    return new JsonBody(`${this.json.slice(0, -1)},"degraded":true}`)
  }
}

/** Strings in JSON above U+00FF make V8 store the whole string at two bytes a character. */
const WIDE = /[\u0100-\uffff]/

function answerJsonOf (result: RecommendationResult): AnswerJson {
  return new AnswerJson(JSON.stringify(result), result.method, result.candidatesExamined)
}

/**
 * The service's answer form. A kept answer's estimated heap bytes: the object (header and three
 * fields at 8 bytes) and the string (header, then one or two bytes a character); the method is an
 * interned literal.
 */
export const ANSWER_JSON: AnswerForm<AnswerJson> = {
  of: answerJsonOf,
  keep (result) {
    const answer = answerJsonOf(result)
    return { answer, bytes: 48 + 16 + (WIDE.test(answer.json) ? 2 : 1) * answer.json.length }
  },
}

/**
 * A made body where a route returns its schema's type: the serializers send the body's JSON, which
 * is that type's JSON (and check it against the route's schema when VALIDATE_RESPONSES is on).
 */
export function asReply<T> (body: JsonBody<T>): T {
  return body as unknown as T
}

/** The reply to a served answer: its JSON, marked degraded when the state store failed. */
export function servedReply (served: Served<AnswerJson>): RecommendationResult {
  return asReply(served.degraded ? served.result.degraded() : served.result)
}

export interface BatchReply {
  modelVersion: string
  results: Array<RecommendationResult | { error: Problem }>
}

/** A batch reply made from its entries' own JSON (an answer is not parsed and serialized again). */
export function batchReply (modelVersion: string, results: ReadonlyArray<RecommendationResult | { error: Problem }>): BatchReply {
  let body = `{"modelVersion":${JSON.stringify(modelVersion)},"results":[`
  for (let i = 0; i < results.length; i++) body += (i > 0 ? ',' : '') + answerJson(results[i])
  return asReply(new JsonBody<BatchReply>(`${body}]}`))
}

/** The JSON of a response: a body made already is sent as it is. */
export function answerJson (data: unknown): string {
  return data instanceof JsonBody ? data.json : JSON.stringify(data)
}

/**
 * Production's serializer: responses are produced by our own typed code, so they are not checked
 * again. With zod's encode pass the schema'd route cost 1.56x a bare route's CPU per request
 * against 1.13x without it (schemas and serializer only; 1.23x for the full app) (bench/http/overhead.ts, hamming top-10 on the MovieLens model),
 * more than the search itself.
 */
export const plainSerializerCompiler = (): typeof answerJson => answerJson

/**
 * Tests' and development's serializer (VALIDATE_RESPONSES): every response checked against its
 * route's schema by `compile` (fastify-type-provider-zod's), a body made already parsed back first.
 */
export function checkedSerializerCompiler<T> (compile: FastifySerializerCompiler<T>): FastifySerializerCompiler<T> {
  return (route) => {
    const check = compile(route)
    return (data) => check(data instanceof JsonBody ? JSON.parse(data.json) : data)
  }
}
