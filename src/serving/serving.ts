/**
 * The serving facade: what the routes call, once per request. It takes the active model once,
 * reads the real-time state a request needs (user-state.ts), lets the recommender answer, times
 * the answer and returns it with how it was made: `{ result, cached, degraded }`. With the state
 * in this process (one worker, or workers without Redis) a recommendation is answered without a
 * promise, so a route can return it as a plain value.
 */
import { HttpProblem } from '../errors.js'
import { validateEvents, type RejectedEvent } from '../realtime/events.js'
import type { AnswerFacts } from '../recommend/answer-form.js'
import type { Answer, Recommender } from '../recommend/recommender.js'
import type { RecommendRequest } from '../recommend/types.js'
import { StateUnavailableError } from '../state/errors.js'
import type { StateStore } from '../state/types.js'
import type { ItemRulePatch } from '../state/item-rules.js'
import { itemRow, itemView, type ItemView } from './items.js'
import { UserStateReader, type DegradedRead, type RequestState } from './user-state.js'

/**
 * A batch may ask for at most this many items in total (the sum of its k): with its 100 entries it
 * bounds the work one request can bring, so a batch costs at most about 100 single requests.
 */
export const MAX_BATCH_TOTAL_K = 10_000

/** An answer and how it was made. */
export interface Served<A> {
  readonly result: A
  /** From the result cache: nothing was searched for it now. */
  readonly cached: boolean
  /** The state store failed or timed out: served from the model alone (no history, fold-in or trending). */
  readonly degraded: boolean
}

/** Without `method`, the active model's default (the recommender resolves it: src/recommend/types.ts). */
export interface UserQuery extends RecommendRequest {
  /** Leave out the user's training items and recent history. */
  readonly excludeSeen: boolean
}

/** A request by body: exactly one of userId, itemIds, vector, code (the HTTP schema checks it). */
export interface BodyQuery extends RecommendRequest {
  readonly userId?: string
  readonly itemIds?: readonly string[]
  readonly vector?: readonly number[]
  readonly code?: string
  readonly excludeSeen?: boolean
}

/** A batch on one model version, its real-time state read for every entry. */
export interface ServedBatch<A> {
  readonly modelVersion: string
  /** Answers entry i (synchronously); throws what a single request would (an unknown dimension, a bad code). */
  answer (i: number): Served<A>
}

export interface Ingested {
  /** Events acknowledged: stored now, or stored before under the same eventId. */
  readonly accepted: number
  /** Of those, events whose eventId was stored before (a retry): not applied again. */
  readonly duplicates: number
  readonly rejected: RejectedEvent[]
}

export interface Serving<A> {
  forUser (userId: string, query: UserQuery): Served<A> | Promise<Served<A>>
  forBody (body: BodyQuery): Served<A> | Promise<Served<A>>
  /** Checks the batch's total k, then reads every entry's state (pipelined by a Redis client) before any answer is computed. */
  batch (bodies: readonly BodyQuery[]): Promise<ServedBatch<A>>
  similar (itemId: string, query: RecommendRequest): Served<A>
  /**
   * Validates events one by one against the active model's catalog and stores the accepted ones in
   * one write; throws StateUnavailableError when the store does not confirm it in time: nothing is
   * acknowledged, but a write that timed out may still land, so the client retries with the same
   * eventIds (the stores apply an eventId at most once).
   */
  ingest (events: readonly unknown[]): Promise<Ingested>
  /** An item as the active catalog sees it; UnknownItemError for an id outside it. */
  item (itemId: string): ItemView
  /**
   * Merges `patch` into the item's catalog rule in the state store and returns the item's state
   * once this process applied it; UnknownItemError for an id outside the serving catalog (a rule
   * for an id no model has would be a silent typo), StateUnavailableError when the store cannot
   * take it (nothing changed).
   */
  patchItem (itemId: string, patch: ItemRulePatch): Promise<ItemView>
}

export interface ServingOptions<A extends AnswerFacts> {
  /** The active model slot (src/serving/model-slot.ts). */
  readonly models: { readonly active: Recommender<A> | null }
  readonly store: StateStore
  readonly historyLength: number
  /** One answer's time in the recommender, and its candidates examined unless it came from the cache. */
  readonly observe: (method: string, seconds: number, candidatesExamined: number | undefined) => void
  /** A state read that failed or timed out (the request is served degraded). */
  readonly degraded: (read: DegradedRead) => void
  /** Events by outcome: stored, duplicate (eventId stored before), rejected (invalid, reported per index), refused (store unavailable). */
  readonly events: (result: 'accepted' | 'duplicate' | 'rejected' | 'refused', count: number) => void
}

const NO_STATE: RequestState = { context: {}, degraded: false }

export function createServing<A extends AnswerFacts> (options: ServingOptions<A>): Serving<A> {
  const { models, observe } = options
  const reads = new UserStateReader(options.store, options.historyLength, options.degraded)

  function active (): Recommender<A> {
    const rec = models.active
    if (rec === null) throw new HttpProblem('notReady', 'no model is loaded yet')
    return rec
  }

  function timed (started: number, answer: Answer<A>, degraded: boolean): Served<A> {
    const result = answer.result
    // An answer from the result cache searched nothing now: its latency counts, its candidates do not.
    observe(result.method, (performance.now() - started) / 1000, answer.cached ? undefined : result.candidatesExamined)
    return { result, cached: answer.cached, degraded }
  }

  function userServed (rec: Recommender<A>, opts: RecommendRequest, state: RequestState): Served<A> {
    const started = performance.now()
    return timed(started, rec.userAnswer(state.user!, opts, state.context), state.degraded)
  }

  /** The state a body needs: a user's (as forUser), trending for a session without catalog items, none for vectors and codes. */
  function bodyState (rec: Recommender<A>, body: BodyQuery): RequestState | Promise<RequestState> {
    if (body.userId !== undefined) {
      const now = reads.now
      return now !== undefined ? reads.userNow(now, rec, body.userId, body.excludeSeen ?? true, body.k) : reads.user(rec, body.userId, body.excludeSeen ?? true, body.k)
    }
    if (body.itemIds !== undefined && !body.itemIds.some((id) => rec.model.items.rowOf(id) !== undefined)) return reads.trending(body.k)
    return NO_STATE
  }

  function bodyServed (rec: Recommender<A>, body: BodyQuery, state: RequestState): Served<A> {
    const opts: RecommendRequest = {
      k: body.k, method: body.method, exclude: body.exclude, ef: body.ef, beam: body.beam, tags: body.tags, excludeTags: body.excludeTags, allowedItemIds: body.allowedItemIds,
      offset: body.offset, diversity: body.diversity, explain: body.explain, withTags: body.withTags, measureDiversity: body.measureDiversity,
    }
    if (body.userId !== undefined) return userServed(rec, opts, state)
    const started = performance.now()
    const session = body.itemIds !== undefined ? { itemIds: body.itemIds } : body.vector !== undefined ? { vector: body.vector } : { code: body.code! }
    return timed(started, { result: rec.forSession(session, opts, state.context), cached: false }, state.degraded)
  }

  return {
    forUser (userId, query) {
      const rec = active()
      const now = reads.now
      if (now !== undefined) return userServed(rec, query, reads.userNow(now, rec, userId, query.excludeSeen, query.k))
      return reads.user(rec, userId, query.excludeSeen, query.k).then((state) => userServed(rec, query, state))
    },

    forBody (body) {
      const rec = active()
      const state = bodyState(rec, body)
      return state instanceof Promise ? state.then((s) => bodyServed(rec, body, s)) : bodyServed(rec, body, state)
    },

    async batch (bodies) {
      // One read of the active model for the whole batch: every answer comes from the same version.
      const rec = active()
      let totalK = 0
      for (const body of bodies) totalK += body.k
      if (totalK > MAX_BATCH_TOTAL_K) {
        throw new HttpProblem('invalidParameters', `a batch may ask for at most ${MAX_BATCH_TOTAL_K} items in total (sum of k), got ${totalK}`, [{ name: 'body.requests', reason: `sum of k over ${MAX_BATCH_TOTAL_K}` }])
      }
      const states = await Promise.all(bodies.map((body) => bodyState(rec, body)))
      return { modelVersion: rec.model.version, answer: (i) => bodyServed(rec, bodies[i], states[i]) }
    },

    similar (itemId, query) {
      const rec = active()
      const started = performance.now()
      return timed(started, rec.similarAnswer(itemId, query), false)
    },

    async ingest (events) {
      // The catalog of the serving model decides which item ids are known.
      const items = active().model.items
      const { accepted, rejected } = validateEvents(events, (id) => items.rowOf(id) !== undefined, Date.now())
      let duplicates = 0
      if (accepted.length > 0) {
        try {
          duplicates = (await options.store.recordEvents(accepted)).duplicates.length
        } catch (err) {
          if (!(err instanceof StateUnavailableError)) throw err
          options.events('refused', accepted.length)
          throw new StateUnavailableError(`the events may or may not have been stored (${err.message}); retry the batch with the same eventIds`)
        }
        if (accepted.length > duplicates) options.events('accepted', accepted.length - duplicates)
        if (duplicates > 0) options.events('duplicate', duplicates)
      }
      if (rejected.length > 0) options.events('rejected', rejected.length)
      return { accepted: accepted.length, duplicates, rejected }
    },

    item: (itemId) => itemView(active(), itemId),

    async patchItem (itemId, patch) {
      itemRow(active(), itemId)
      await options.store.patchItemRule(itemId, patch)
      // The store applied the change in this process before resolving: the active catalog shows it.
      return itemView(active(), itemId)
    },
  }
}
