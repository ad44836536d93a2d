/**
 * The Redis StateStore (ioredis), shared by every replica.
 *
 * Keys, under a configurable prefix P:
 *   P events             stream of accepted events (XADD, capped ~MAXLEN)
 *   P u:<userId>         sorted set itemId -> latest event time: the user's recent history
 *   P trend:<era>        sorted set itemId -> era-scaled weight (see decay.ts)
 *   P model:active       JSON of the active model; the same JSON is published on channel P model
 *   P rules, P rules:version  catalog rules and their change count (redis-rules.ts), changes on channel P rules
 *
 * Every call runs under a time budget and the offline queue is off: when Redis is down or slow a
 * call fails fast with StateUnavailableError instead of queueing, and ioredis keeps reconnecting.
 */
import { Redis, type RedisOptions } from 'ioredis'
import { StateUnavailableError } from './errors.js'
import { boost, eraOf, ERA_HALF_LIVES, mergeEras } from './decay.js'
import { parseJsonWith } from './parse-json.js'
import { createRedisRules } from './redis-rules.js'
import { ActiveModelSchema, DEFAULT_STATE_OPTIONS, EVENT_WEIGHTS, type ActiveModel, type InteractionEvent, type StateOptions, type StateStore, type TrendingItem } from './types.js'

export interface RedisStoreOptions extends Partial<StateOptions> {
  readonly url: string
  readonly keyPrefix?: string
  /** Budget for event writes, larger than reads: a batch of 1000 events is one MULTI. */
  readonly writeTimeoutMs?: number
  /** Approximate cap of the events stream. */
  readonly streamMaxLength?: number
  /** Trending is a fallback list: a replica reuses its last read this long. */
  readonly trendingCacheMs?: number
  readonly onError?: (err: Error) => void
}

export async function createRedisStore (options: RedisStoreOptions): Promise<StateStore> {
  const opts = { ...DEFAULT_STATE_OPTIONS, ...options }
  const now = opts.now ?? Date.now
  const prefix = options.keyPrefix ?? 'hashrec:'
  const writeTimeoutMs = options.writeTimeoutMs ?? 1000
  const streamMaxLength = options.streamMaxLength ?? 1_000_000
  const trendingCacheMs = options.trendingCacheMs ?? 1000
  const halfLifeMs = opts.trendingHalfLifeSeconds * 1000
  const onError = options.onError ?? (() => {})
  const redisOptions: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    connectTimeout: 2000,
    // Reconnect forever, backing off to 1 s: a restarted Redis is picked up within a second.
    retryStrategy: (times) => Math.min(50 * times, 1000),
  }
  const client = new Redis(options.url, redisOptions)
  const subscriber = new Redis(options.url, { ...redisOptions, enableOfflineQueue: true })
  client.on('error', onError)
  subscriber.on('error', onError)
  const channel = `${prefix}model`
  const listeners = new Set<(m: ActiveModel) => void>()

  subscriber.on('message', (ch: string, message: string) => {
    if (ch === rules.channel) { rules.receive(message); return }
    if (ch !== channel) return
    const parsed = parseActive(message)
    if (!parsed) { onError(new Error(`ignored a malformed model announcement on ${channel}`)); return }
    for (const l of listeners) l(parsed)
  })

  // Start degraded rather than not at all when Redis is down: both connections keep retrying.
  await Promise.allSettled([client.connect(), subscriber.connect()])
  const rules = createRedisRules({ client, prefix, now, readTimeoutMs: opts.timeoutMs, writeTimeoutMs, budget, onError })
  subscriber.subscribe(channel, rules.channel).catch(onError)
  // Messages published while the subscriber was away are lost: read the rules again on every
  // (re)connection, and once now (a replica that cannot yet keeps polling: redis-rules.ts).
  subscriber.on('ready', () => { rules.resync().catch(onError) })
  await rules.resync().catch(onError)

  async function budget<T> (op: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StateUnavailableError(`redis did not answer within ${ms} ms`)), ms)
    })
    try {
      return await Promise.race([op, timeout])
    } catch (err) {
      if (err instanceof StateUnavailableError) throw err
      throw new StateUnavailableError(`redis: ${(err as Error).message}`)
    } finally {
      clearTimeout(timer)
    }
  }

  const userKey = (userId: string): string => `${prefix}u:${userId}`
  const trendKey = (era: number): string => `${prefix}trend:${era}`
  let trendingCache: { at: number, limit: number, items: TrendingItem[] } | null = null

  async function topOf (era: number, n: number): Promise<Array<[string, number]>> {
    const flat = await client.zrange(trendKey(era), '0', String(n - 1), 'REV', 'WITHSCORES') as string[]
    const out: Array<[string, number]> = []
    for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], Number(flat[i + 1])])
    return out
  }

  return {
    kind: 'redis',
    async recordEvents (events: readonly InteractionEvent[]): Promise<void> {
      if (events.length === 0) return
      const multi = client.multi()
      const users = new Set<string>()
      const eras = new Set<number>()
      for (const e of events) {
        multi.xadd(`${prefix}events`, 'MAXLEN', '~', streamMaxLength, '*', 'u', e.userId, 'i', e.itemId, 't', e.type, 'v', String(e.value ?? ''), 'ts', String(e.timestamp))
        // GT: an older event arriving late never moves an item back in the history.
        multi.zadd(userKey(e.userId), 'GT', e.timestamp, e.itemId)
        const era = eraOf(e.timestamp, halfLifeMs)
        multi.zincrby(trendKey(era), boost(EVENT_WEIGHTS[e.type], e.timestamp, era, halfLifeMs), e.itemId)
        users.add(e.userId)
        eras.add(era)
      }
      for (const u of users) {
        multi.zremrangebyrank(userKey(u), 0, -(opts.historyLength + 1))
        multi.expire(userKey(u), opts.historyTtlSeconds)
      }
      for (const era of eras) multi.pexpire(trendKey(era), Math.ceil(2 * ERA_HALF_LIVES * halfLifeMs))
      const results = await budget(multi.exec(), writeTimeoutMs)
      const failed = results?.find(([err]) => err)
      if (!results || failed) throw new StateUnavailableError(`redis refused the event batch: ${failed?.[0]?.message ?? 'transaction aborted'}`)
      // This replica's next read sees its own writes; other replicas' wait out trendingCacheMs.
      trendingCache = null
    },
    async recentItems (userId: string, limit: number): Promise<string[]> {
      if (limit <= 0) return []
      return budget(client.zrange(userKey(userId), '0', String(limit - 1), 'REV') as Promise<string[]>, opts.timeoutMs)
    },
    async trending (limit: number): Promise<TrendingItem[]> {
      const t = now()
      if (trendingCache && trendingCache.limit >= limit && t - trendingCache.at < trendingCacheMs) return trendingCache.items.slice(0, limit)
      const era = eraOf(t, halfLifeMs)
      const [cur, prev] = await budget(Promise.all([topOf(era, limit * 4), topOf(era - 1, limit * 4)]), opts.timeoutMs)
      const items = mergeEras(cur, prev, t, era, halfLifeMs, limit)
      trendingCache = { at: t, limit, items }
      return items
    },
    async getActiveModel (): Promise<ActiveModel | null> {
      const raw = await budget(client.get(`${prefix}model:active`), opts.timeoutMs)
      if (raw === null) return null
      const parsed = parseActive(raw)
      if (!parsed) throw new StateUnavailableError(`malformed ${prefix}model:active in redis`)
      return parsed
    },
    async publishActiveModel (model: ActiveModel): Promise<void> {
      const json = JSON.stringify(ActiveModelSchema.parse(model))
      await budget(client.multi().set(`${prefix}model:active`, json).publish(channel, json).exec(), writeTimeoutMs)
    },
    rules: rules.rules,
    patchItemRule: (itemId, patch) => rules.patch(itemId, patch),
    onActiveModel (listener: (model: ActiveModel) => void): () => void {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    async ping (): Promise<boolean> {
      try {
        return (await budget(client.ping(), opts.timeoutMs)) === 'PONG'
      } catch {
        return false
      }
    },
    async close (): Promise<void> {
      listeners.clear()
      rules.close()
      await Promise.allSettled([client.quit(), subscriber.quit()])
      client.disconnect()
      subscriber.disconnect()
    },
  }
}

function parseActive (raw: string): ActiveModel | null {
  return parseJsonWith(ActiveModelSchema, raw)
}
