/**
 * What a request reads from the real-time state before the synchronous recommender runs: a
 * user's history and, for a user whose answer is the fallback, trending items. Every read has the
 * store's time budget; past it, or with the store down, the request is served from the model
 * alone (`degraded`, counted) rather than late or failed.
 */
import { MAX_K } from '../defaults.js'
import type { AnswerFacts } from '../recommend/answer-form.js'
import type { Recommender, UserLookup } from '../recommend/recommender.js'
import type { RealtimeContext } from '../recommend/types.js'
import { StateUnavailableError } from '../state/errors.js'
import type { StateStore, SyncReads } from '../state/types.js'

/** A request's real-time context, the user as the model sees them (user requests), and whether a read failed. */
export interface RequestState {
  readonly user?: UserLookup
  readonly context: RealtimeContext
  readonly degraded: boolean
}

export type DegradedRead = 'history' | 'trending'

/** How many trending items a fallback asks for: enough for k after exclusions, one kept merge for typical k. */
function trendingLimit (k: number): number {
  return Math.min(MAX_K, Math.max(100, 2 * k))
}

const NO_HISTORY: readonly string[] = Object.freeze([])

export class UserStateReader {
  constructor (
    private readonly store: StateStore,
    private readonly historyLength: number,
    private readonly degraded: (read: DegradedRead) => void,
  ) {}

  /** The reads of a store that holds its state in this process (answered without a promise), or undefined (Redis). */
  get now (): SyncReads | undefined {
    return this.store.now
  }

  /** A user's state from in-process reads: their history, and trending items when their answer is the fallback. */
  userNow (reads: SyncReads, rec: Recommender<AnswerFacts>, userId: string, excludeSeen: boolean, k: number): RequestState {
    const history = reads.recentItems(userId, this.historyLength)
    const user = rec.lookUpUser(userId, history)
    if (!user.fallback) return { user, context: { history, excludeSeen }, degraded: false }
    return { user, context: { history, excludeSeen, trending: reads.trending(trendingLimit(k)) }, degraded: false }
  }

  /** The same through the store's asynchronous reads; never rejects on a store failure. */
  async user (rec: Recommender<AnswerFacts>, userId: string, excludeSeen: boolean, k: number): Promise<RequestState> {
    let history: readonly string[]
    try {
      history = await this.store.recentItems(userId, this.historyLength)
    } catch (err) {
      if (!(err instanceof StateUnavailableError)) throw err
      this.degraded('history')
      // One budget per request: with history unavailable, trending almost surely is too.
      return { user: rec.lookUpUser(userId, NO_HISTORY), context: { excludeSeen }, degraded: true }
    }
    const user = rec.lookUpUser(userId, history)
    if (!user.fallback) return { user, context: { history, excludeSeen }, degraded: false }
    try {
      return { user, context: { history, excludeSeen, trending: await this.store.trending(trendingLimit(k)) }, degraded: false }
    } catch (err) {
      if (!(err instanceof StateUnavailableError)) throw err
      this.degraded('trending')
      return { user, context: { history, excludeSeen }, degraded: true }
    }
  }

  /** Trending items for a fallback that is certain to happen (a session without catalog items); never rejects on a store failure. */
  async trending (k: number): Promise<RequestState> {
    try {
      return { context: { trending: await this.store.trending(trendingLimit(k)) }, degraded: false }
    } catch (err) {
      if (!(err instanceof StateUnavailableError)) throw err
      this.degraded('trending')
      return { context: {}, degraded: true }
    }
  }
}
