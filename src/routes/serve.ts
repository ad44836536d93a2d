/** Glue shared by the recommendation routes: the active recommender, timing, body -> domain call. */
import type { FastifyInstance } from 'fastify'
import type { z } from 'zod'
import { HttpProblem } from '../errors.js'
import type { Recommender } from '../recommend/recommender.js'
import type { RecommendationResult } from '../recommend/types.js'
import type { UserState } from '../plugins/state.js'
import type { RecommendBodySchema } from './schemas.js'

export function activeRecommender (app: FastifyInstance): Recommender {
  const active = app.modelStore.active
  if (active === null) throw new HttpProblem('notReady', 'no model is loaded yet')
  return active
}

/** Runs one recommendation and records its latency and work under the method actually served. */
export function observed (app: FastifyInstance, rec: Recommender, run: () => RecommendationResult): RecommendationResult {
  const started = performance.now()
  const cachedBefore = rec.stats.resultCached
  return record(app, rec, started, cachedBefore, run())
}

/** What `observed` records, for a caller that ran the recommendation itself (no closure per request). */
export function record (app: FastifyInstance, rec: Recommender, started: number, cachedBefore: number, result: RecommendationResult): RecommendationResult {
  // An answer from the result cache searched nothing now: its latency counts, its candidates do not.
  const searched = rec.stats.resultCached === cachedBefore
  app.metrics.observeRecommendation(result.method, (performance.now() - started) / 1000, searched ? result.candidatesExamined : undefined)
  return result
}

export type RecommendBody = z.output<typeof RecommendBodySchema>

/**
 * The real-time state a body query needs, fetched before the synchronous recommender runs: a
 * user's history (and trending when the model has no signal for them), trending for a session
 * without catalog items, nothing for raw vectors and codes.
 */
export async function stateForBody (app: FastifyInstance, rec: Recommender, body: RecommendBody): Promise<UserState | null> {
  if (body.userId !== undefined) return app.realtime.userState(rec, body.userId, body.excludeSeen ?? true, body.k)
  if (body.itemIds !== undefined && !body.itemIds.some((id) => rec.model.items.rowOf(id) !== undefined)) return app.realtime.trendingState(body.k)
  return null
}

export function recommendByBody (rec: Recommender, body: RecommendBody, state: UserState | null = null): RecommendationResult {
  const opts = {
    k: body.k, method: body.method, exclude: body.exclude, ef: body.ef, tags: body.tags, excludeTags: body.excludeTags, allowedItemIds: body.allowedItemIds,
    offset: body.offset, diversity: body.diversity, explain: body.explain, withTags: body.withTags, measureDiversity: body.measureDiversity,
  }
  const result = body.userId !== undefined
    ? rec.forUser(body.userId, opts, state?.context)
    : body.itemIds !== undefined
      ? rec.forSession({ itemIds: body.itemIds }, opts, state?.context)
      : body.vector !== undefined ? rec.forSession({ vector: body.vector }, opts) : rec.forSession({ code: body.code! }, opts)
  // A copy: the answer may be one a cache keeps (frozen).
  return state?.degraded === true ? { ...result, degraded: true } : result
}
