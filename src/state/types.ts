import { z } from 'zod'
import { DEFAULT_HISTORY_LENGTH, DEFAULT_HISTORY_TTL_SECONDS, DEFAULT_STATE_TIMEOUT_MS, DEFAULT_TRENDING_HALF_LIFE_SECONDS } from '../defaults.js'
import type { ItemRule, ItemRulePatch, RuleBook } from './item-rules.js'

export const EVENT_TYPES = ['view', 'click', 'purchase', 'rating'] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** How much one event of each type adds to an item's trending score. */
export const EVENT_WEIGHTS: Readonly<Record<EventType, number>> = { view: 1, click: 2, purchase: 5, rating: 3 }

export interface InteractionEvent {
  readonly userId: string
  readonly itemId: string
  readonly type: EventType
  readonly value?: number
  /** Milliseconds since the epoch. */
  readonly timestamp: number
}

export interface TrendingItem {
  readonly itemId: string
  readonly score: number
}

/** The model every replica should serve; written by the replica that reloaded, read at start. */
export const ActiveModelSchema = z.object({
  /** Bundle directory relative to the models root. */
  path: z.string().min(1).max(1024),
  version: z.string().min(1).max(128),
  at: z.string(),
  by: z.string().max(256).optional(),
}).strict()
export type ActiveModel = z.infer<typeof ActiveModelSchema>

/**
 * Real-time state shared by replicas: Redis when REDIS_URL is set, in-process otherwise (kept in step
 * between cluster workers through the primary). Every call either completes within the store's
 * time budget or rejects with StateUnavailableError, so a caller can serve degraded instead of
 * waiting.
 */
/** Reads of a store that holds its state in this process (StateStore.now). */
export interface SyncReads {
  recentItems (userId: string, limit: number): readonly string[]
  trending (limit: number): TrendingItem[]
}

export interface StateStore {
  readonly kind: 'memory' | 'redis' | 'replicated'
  /** Resolves once every event is stored (acknowledged by Redis); rejects and stores none on failure. */
  recordEvents (events: readonly InteractionEvent[]): Promise<void>
  /** The user's most recent distinct items, newest first. */
  recentItems (userId: string, limit: number): Promise<readonly string[]>
  /** Items by time-decayed event weight, highest first. */
  trending (limit: number): Promise<TrendingItem[]>
  /**
   * The same two reads answered synchronously, for stores whose state is in this process (the
   * in-process store and a cluster worker's replica); absent for Redis. A request served from it
   * needs no promise or microtask turn between the route and the recommender.
   */
  readonly now?: SyncReads
  /**
   * The catalog rules as this process holds them (item-rules.ts), read synchronously on every
   * request: the in-process store's own, a cluster worker's replica, or Redis's mirrored here
   * (pub/sub, and a poll of the version that catches a lost message within a second).
   */
  readonly rules: RuleBook
  /**
   * Merges `patch` into the item's rule; resolves with the rule after it (null: back to the
   * defaults) once it is stored and applied to `rules` in this process. Rejects with
   * StateUnavailableError (nothing changed) when the store does not answer within its write budget.
   */
  patchItemRule (itemId: string, patch: ItemRulePatch): Promise<ItemRule | null>
  getActiveModel (): Promise<ActiveModel | null>
  /** Records the active model and announces it to every replica (including this one). */
  publishActiveModel (model: ActiveModel): Promise<void>
  /** Called for every announcement; returns an unsubscribe function. */
  onActiveModel (listener: (model: ActiveModel) => void): () => void
  /** True when the store answers now. */
  ping (): Promise<boolean>
  close (): Promise<void>
}

export interface StateOptions {
  /** Events kept per user in the recent history. */
  readonly historyLength: number
  /** Seconds a user's history lives after their last event. */
  readonly historyTtlSeconds: number
  /** Trending half-life in seconds. */
  readonly trendingHalfLifeSeconds: number
  /** Time budget of one store call in milliseconds. */
  readonly timeoutMs: number
  /** Injected clock (tests). */
  readonly now?: () => number
}

export const DEFAULT_STATE_OPTIONS: StateOptions = {
  historyLength: DEFAULT_HISTORY_LENGTH,
  historyTtlSeconds: DEFAULT_HISTORY_TTL_SECONDS,
  trendingHalfLifeSeconds: DEFAULT_TRENDING_HALF_LIFE_SECONDS,
  timeoutMs: DEFAULT_STATE_TIMEOUT_MS,
}
