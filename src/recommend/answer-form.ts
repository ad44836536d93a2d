/**
 * The form a recommender returns and keeps its answers in. The domain's own is the plain result
 * (PLAIN_ANSWERS: tests, benchmarks, embedders); the HTTP layer passes one that holds each answer
 * as its response body (src/answer-json.ts), so an answer kept by the result cache is sent as it
 * was kept and takes one string of heap.
 */
import type { RecommendationResult } from './types.js'

/** What the serving layer reads of an answer in any form: the method served and the work done (metrics). */
export type AnswerFacts = Pick<RecommendationResult, 'method' | 'candidatesExamined'>

export interface AnswerForm<A extends AnswerFacts> {
  /** The answer to a request whose result is not kept (a session, a trending fallback, no cache). */
  of (result: RecommendationResult): A
  /**
   * The answer the result cache keeps, which the request that computed it gets as well: nothing
   * may change it afterwards. `bytes` is its estimated heap size, what RESULT_CACHE_BYTES bounds.
   */
  keep (result: RecommendationResult): { readonly answer: A, readonly bytes: number }
}

/**
 * Heap bytes of a plain result: object headers and fields at 8 bytes (node's default build has no
 * pointer compression), a heap number per score and the id strings; titles are shared with the
 * model's title cache.
 */
function plainBytes (result: RecommendationResult): number {
  let bytes = 24 + 8 * 9 + 32 + 16
  for (const item of result.items) bytes += 24 + 8 * 4 + 16 + 24 + item.id.length
  return bytes
}

/** Plain results; a kept one is frozen, items too, so no caller can change what later requests get. */
export const PLAIN_ANSWERS: AnswerForm<RecommendationResult> = {
  of: (result) => result,
  keep (result) {
    for (const item of result.items) Object.freeze(item)
    Object.freeze(result.items)
    Object.freeze(result)
    return { answer: result, bytes: plainBytes(result) }
  },
}
