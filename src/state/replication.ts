/**
 * The protocol between a cluster primary's replication hub and its workers' replicated stores
 * (WORKERS > 1 without REDIS_URL). Workers send writes to the primary; the primary applies each to
 * its own replica, numbers it and sends it to every worker, which applies it in that order. Every
 * message crosses a process boundary, so both ends parse it with these schemas.
 */
import { z } from 'zod'
import { MAX_ID_BYTES } from '../bundle-format/manifest.js'
import { ItemRulePatchSchema, ItemRuleSchema, RuleChangeSchema } from './item-rules.js'
import { ActiveModelSchema, EVENT_TYPES } from './types.js'

/** Every message carries this tag, so other uses of the cluster channel pass through untouched. */
export const CHANNEL = 'hashrec:state'
/** Most events in one write: the events route accepts at most 1000 per request. */
export const MAX_REPLICATED_EVENTS = 1000

const Id = z.string().min(1).max(MAX_ID_BYTES)
const Time = z.number().finite()

export const ReplicatedEventSchema = z.object({
  userId: Id,
  itemId: Id,
  type: z.enum(EVENT_TYPES),
  value: z.number().finite().optional(),
  timestamp: Time,
}).strict()

const Seq = z.number().int().min(0)
const Req = z.number().int().min(0)

/** Worker -> primary. */
export const WorkerMessageSchema = z.discriminatedUnion('op', [
  /** A (re)starting replica asks for the whole state. */
  z.object({ ch: z.literal(CHANNEL), op: z.literal('hello') }).strict(),
  z.object({ ch: z.literal(CHANNEL), op: z.literal('events'), req: Req, events: z.array(ReplicatedEventSchema).min(1).max(MAX_REPLICATED_EVENTS) }).strict(),
  z.object({ ch: z.literal(CHANNEL), op: z.literal('active'), req: Req, model: ActiveModelSchema }).strict(),
  /** A catalog rule patch: the primary merges it against its replica's rule, so concurrent patches of one item never lose a field. */
  z.object({ ch: z.literal(CHANNEL), op: z.literal('rule'), req: Req, itemId: Id, patch: ItemRulePatchSchema }).strict(),
])
export type WorkerMessage = z.infer<typeof WorkerMessageSchema>

const MemoryStateSchema = z.object({
  histories: z.array(z.tuple([Id, Time, z.array(z.tuple([Id, Time]))])),
  eras: z.array(z.tuple([z.number().int(), z.array(z.tuple([Id, Time]))])),
  active: ActiveModelSchema.nullable(),
  writes: z.number().int().min(0),
  rules: z.array(z.tuple([Id, ItemRuleSchema])),
  rulesVersion: z.number().int().min(0),
}).strict()

/** Primary -> worker. `origin`/`req` name the write a worker is waiting for; `t` is the primary's clock when it applied it. */
export const PrimaryMessageSchema = z.discriminatedUnion('op', [
  /** The whole state as of write `seq`, in parts 0, 1, ... (the last flagged): see MemoryStore.exportParts. */
  z.object({ ch: z.literal(CHANNEL), op: z.literal('snapshot'), seq: Seq, part: z.number().int().min(0), last: z.boolean(), state: MemoryStateSchema }).strict(),
  z.object({ ch: z.literal(CHANNEL), op: z.literal('events'), seq: Seq, t: Time, origin: z.number().int(), req: Req, events: z.array(ReplicatedEventSchema) }).strict(),
  z.object({ ch: z.literal(CHANNEL), op: z.literal('active'), seq: Seq, origin: z.number().int(), req: Req, model: ActiveModelSchema }).strict(),
  /** The merged rule (not the patch): every replica applies the same result. */
  z.object({ ch: z.literal(CHANNEL), op: z.literal('rule'), seq: Seq, origin: z.number().int(), req: Req, change: RuleChangeSchema }).strict(),
  /** A write the primary could not parse: nothing was applied anywhere. */
  z.object({ ch: z.literal(CHANNEL), op: z.literal('refused'), req: Req, reason: z.string() }).strict(),
])
export type PrimaryMessage = z.infer<typeof PrimaryMessageSchema>

/**
 * History and trending entries per snapshot part: well under V8's string limit once serialized
 * (an entry is an id and a number, tens of bytes), large enough that a typical state is one part.
 */
export const SNAPSHOT_PART_ENTRIES = 250_000

/** Most messages in one frame the receiver takes (a frame holds what one loop turn sent). */
export const MAX_FRAME_MESSAGES = 100_000

const FrameSchema = z.object({ ch: z.literal(CHANNEL), op: z.literal('batch'), msgs: z.array(z.unknown()).max(MAX_FRAME_MESSAGES) }).strict()

/**
 * Coalesces the messages sent during one turn of the event loop into one frame: one IPC write, and
 * one wake-up of the receiver, instead of one per message. Under a stream of events a turn of the
 * primary answers dozens of writes; order is kept. Snapshot parts are written alone.
 */
export function coalescing (write: (frame: unknown) => void): (message: unknown) => void {
  let queue: unknown[] = []
  const flush = (): void => {
    if (queue.length === 0) return
    const q = queue
    queue = []
    write(q.length === 1 ? q[0] : { ch: CHANNEL, op: 'batch', msgs: q })
  }
  return (message) => {
    // A snapshot part is large enough on its own: it goes at once, after what was queued before it.
    if ((message as { op?: unknown }).op === 'snapshot') { flush(); write(message); return }
    queue.push(message)
    if (queue.length === 1) setImmediate(flush)
  }
}

/**
 * The messages of a frame, or of a single message, in order; null for a malformed frame. Each
 * message is then parsed on its own, as if it had been sent alone.
 */
export function unframe (message: unknown): unknown[] | null {
  if ((message as { op?: unknown }).op !== 'batch') return [message]
  const parsed = FrameSchema.safeParse(message)
  return parsed.success ? parsed.data.msgs : null
}

/** True for a message on this channel (whatever it holds): the cheap test before parsing. */
export function onChannel (message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { ch?: unknown }).ch === CHANNEL
}
