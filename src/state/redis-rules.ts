/**
 * Catalog rules in Redis, mirrored in every replica's process (a RuleBook): every recommendation
 * reads them, so they cannot cost a round trip.
 *
 * Keys under the store's prefix P:
 *   P rules            hash itemId -> rule JSON (item-rules.ts)
 *   P rules:version    the number of rule changes ever made
 *   channel P rules    {"v": version, "itemId": id, "rule": rule | null} for each change
 *
 * A change is one Lua script (PATCH_RULE): compare the item's stored JSON with what the writer
 * merged against, write, INCR the version and PUBLISH the change with it, atomically, so versions
 * and messages are in one order. A replica applies changes strictly in version order; one that
 * arrives early waits for the missing ones. Pub/sub is at most once (a reconnect loses messages),
 * so a poll of the version every RULES_POLL_MS catches a replica that stays behind, which then
 * reads every rule again: a lost change reaches it within two polls.
 */
import type { Redis } from 'ioredis'
import { z } from 'zod'
import { StateUnavailableError } from './errors.js'
import { parseJsonWith } from './parse-json.js'
import { ItemRuleSchema, mergeRule, RuleBook, RuleChangeSchema, type ItemRule, type ItemRulePatch, type RuleChange } from './item-rules.js'

/** How often a replica compares its rules' version with Redis's. */
export const RULES_POLL_MS = 250
/** Compare-and-set retries when another replica changed the same item in between. */
const CAS_ATTEMPTS = 5

// KEYS: rules hash, version; ARGV: itemId, expected JSON ('' = none), new JSON ('' = delete), channel, itemId as JSON.
const PATCH_RULE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (cur or '') ~= ARGV[2] then return -1 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
local v = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], '{"v":' .. v .. ',"itemId":' .. ARGV[5] .. ',"rule":' .. (ARGV[3] == '' and 'null' or ARGV[3]) .. '}')
return v
`

const MessageSchema = RuleChangeSchema.extend({ v: z.number().int().min(1) })

export interface RedisRules {
  readonly rules: RuleBook
  readonly channel: string
  /** A message from the rules channel. */
  receive (message: string): void
  patch (itemId: string, patch: ItemRulePatch): Promise<ItemRule | null>
  /** Reads every rule again (startup, reconnection, a replica left behind). */
  resync (): Promise<void>
  close (): void
}

export interface RedisRulesOptions {
  readonly client: Redis
  readonly prefix: string
  readonly now: () => number
  readonly readTimeoutMs: number
  readonly writeTimeoutMs: number
  readonly budget: <T>(op: Promise<T>, ms: number) => Promise<T>
  readonly onError: (err: Error) => void
  readonly pollMs?: number
}

export function createRedisRules (options: RedisRulesOptions): RedisRules {
  const { client, budget, onError } = options
  const hashKey = `${options.prefix}rules`
  const versionKey = `${options.prefix}rules:version`
  const channel = `${options.prefix}rules`
  const rules = new RuleBook()
  // Changes that arrived ahead of a missing one, by version.
  const early = new Map<number, RuleChange>()
  const waiters: Array<{ version: number, resolve: () => void }> = []
  let resyncing: Promise<void> | null = null
  let synced = false
  // The remote version the last poll saw while this replica was behind it.
  let behindAt: number | null = null

  function drain (): void {
    for (let next = early.get(rules.version + 1); next !== undefined; next = early.get(rules.version + 1)) {
      early.delete(rules.version + 1)
      rules.apply(next)
    }
    for (const v of early.keys()) if (v <= rules.version) early.delete(v)
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].version <= rules.version) { waiters[i].resolve(); waiters.splice(i, 1) }
    }
  }

  function accept (version: number, change: RuleChange): void {
    if (version <= rules.version) return
    early.set(version, change)
    drain()
  }

  function resync (): Promise<void> {
    resyncing ??= (async () => {
      try {
        const results = await budget(client.multi().get(versionKey).hgetall(hashKey).exec(), options.writeTimeoutMs)
        const failed = results?.find(([err]) => err)
        if (!results || failed) throw new StateUnavailableError(`redis: reading the rules failed: ${failed?.[0]?.message ?? 'transaction aborted'}`)
        const version = Number(results[0][1] ?? 0)
        const entries: Array<[string, ItemRule]> = []
        for (const [id, json] of Object.entries(results[1][1] as Record<string, string>)) {
          const rule = parseRule(json)
          if (rule === null) onError(new Error(`ignored a malformed rule of item ${JSON.stringify(id)} in ${hashKey}`))
          else entries.push([id, rule])
        }
        rules.reset(entries, Number.isSafeInteger(version) && version >= 0 ? version : 0)
        synced = true
        behindAt = null
        drain()
      } finally {
        resyncing = null
      }
    })()
    return resyncing
  }

  async function poll (): Promise<void> {
    if (resyncing !== null) return
    if (!synced) { await resync(); return }
    const remote = Number(await budget(client.get(versionKey), options.readTimeoutMs) ?? 0)
    if (remote < rules.version) { await resync(); return } // the keys were deleted or Redis replaced
    if (remote === rules.version) { behindAt = null; return }
    // Behind: a message may be in flight; behind the same target a poll later, one was lost.
    if (behindAt !== null && rules.version < behindAt) { await resync(); return }
    behindAt = remote
  }
  const timer = setInterval(() => { poll().catch((err: unknown) => onError(err as Error)) }, options.pollMs ?? RULES_POLL_MS)
  timer.unref()

  function applied (version: number): Promise<void> {
    if (version <= rules.version) return Promise.resolve()
    return new Promise<void>((resolve) => { waiters.push({ version, resolve }) })
  }

  return {
    rules,
    channel,
    receive (message) {
      const parsed = parseJsonWith(MessageSchema, message)
      if (parsed === null) { onError(new Error(`ignored a malformed rule change on ${channel}`)); return }
      accept(parsed.v, { itemId: parsed.itemId, rule: parsed.rule })
    },
    async patch (itemId, patch) {
      for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        const stored = await budget(client.hget(hashKey, itemId), options.writeTimeoutMs)
        const current = stored === null ? undefined : parseRule(stored) ?? undefined
        const merged = mergeRule(current, patch, new Date(options.now()).toISOString())
        const json = merged === null ? '' : JSON.stringify(merged)
        const version = Number(await budget(client.eval(PATCH_RULE, 2, hashKey, versionKey, itemId, stored ?? '', json, channel, JSON.stringify(itemId)), options.writeTimeoutMs))
        if (version === -1) continue
        accept(version, { itemId, rule: merged })
        // Applied here once the changes before it are: their messages are a moment away, or lost (read everything).
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), Math.min(options.writeTimeoutMs, 2 * (options.pollMs ?? RULES_POLL_MS))) })
        const outcome = await Promise.race([applied(version), late])
        clearTimeout(timer)
        if (outcome === 'late') await resync()
        return merged
      }
      throw new StateUnavailableError(`item ${JSON.stringify(itemId)}'s rule kept changing under ${CAS_ATTEMPTS} attempts; retry`)
    },
    resync,
    close () {
      clearInterval(timer)
      for (const w of waiters.splice(0)) w.resolve()
    },
  }
}

function parseRule (json: string): ItemRule | null {
  return parseJsonWith(ItemRuleSchema, json)
}
