/**
 * Validation of an event batch, event by event: a batch is accepted in part, and every rejected
 * event is reported with its index and a reason, rather than one bad event failing a thousand.
 */
import { z } from 'zod'
import { ID_PATTERN, MAX_ID_BYTES } from '../bundle-format/manifest.js'
import { EVENT_TYPES, type InteractionEvent } from '../state/types.js'

export const MAX_EVENTS_PER_BATCH = 1000
/** Clock skew tolerated for timestamps from the future. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000
/** Older events are refused: they would carry no weight in trending and no place in history. */
export const MAX_EVENT_AGE_MS = 365 * 24 * 3600 * 1000

const EventShape = z.object({
  userId: z.string(),
  itemId: z.string(),
  type: z.enum(EVENT_TYPES),
  value: z.number().finite().optional(),
  /** Epoch milliseconds or an ISO 8601 date-time. Defaults to the time of receipt. */
  timestamp: z.union([z.number(), z.string()]).optional(),
}).strict()

export type EventRejection = 'malformed' | 'oversized-id' | 'bad-id' | 'unknown-item' | 'bad-timestamp'

export interface RejectedEvent {
  readonly index: number
  readonly reason: EventRejection
  readonly detail: string
}

export interface ValidatedBatch {
  readonly accepted: InteractionEvent[]
  readonly rejected: RejectedEvent[]
}

function checkId (id: string): EventRejection | null {
  if (id.length === 0 || !ID_PATTERN.test(id)) return 'bad-id'
  if (id.length * 3 > MAX_ID_BYTES && Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) return 'oversized-id'
  return null
}

function parseTimestamp (raw: number | string | undefined, now: number): number | null {
  if (raw === undefined) return now
  const t = typeof raw === 'number' ? raw : /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : NaN
  if (!Number.isFinite(t) || !Number.isInteger(Math.round(t))) return null
  if (t > now + MAX_FUTURE_SKEW_MS || t < now - MAX_EVENT_AGE_MS) return null
  return Math.round(t)
}

export function validateEvents (events: readonly unknown[], isKnownItem: (id: string) => boolean, now: number): ValidatedBatch {
  const accepted: InteractionEvent[] = []
  const rejected: RejectedEvent[] = []
  for (let index = 0; index < events.length; index++) {
    const parsed = EventShape.safeParse(events[index])
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      rejected.push({ index, reason: 'malformed', detail: `${issue.path.join('.') || 'event'}: ${issue.message}` })
      continue
    }
    const e = parsed.data
    const idProblem = checkId(e.userId) ?? checkId(e.itemId)
    if (idProblem) {
      rejected.push({ index, reason: idProblem, detail: idProblem === 'oversized-id' ? `ids are at most ${MAX_ID_BYTES} UTF-8 bytes` : 'ids are non-empty and have no control characters' })
      continue
    }
    if (!isKnownItem(e.itemId)) {
      rejected.push({ index, reason: 'unknown-item', detail: `item ${JSON.stringify(e.itemId)} is not in the model's catalog` })
      continue
    }
    const timestamp = parseTimestamp(e.timestamp, now)
    if (timestamp === null) {
      rejected.push({ index, reason: 'bad-timestamp', detail: 'timestamp must be epoch milliseconds or ISO 8601, within the last year and at most 5 minutes ahead' })
      continue
    }
    accepted.push(e.value === undefined ? { userId: e.userId, itemId: e.itemId, type: e.type, timestamp } : { userId: e.userId, itemId: e.itemId, type: e.type, value: e.value, timestamp })
  }
  return { accepted, rejected }
}
