/**
 * The HTTP problem catalogue (RFC 9457). Every error response is `application/problem+json` whose
 * `type` comes from this table: clients switch on `type`, so entries are only ever added.
 */
import { z } from 'zod'

const TYPE_BASE = 'urn:hashrec:problem:'

export const PROBLEMS = {
  invalidParameters: { slug: 'invalid-parameters', status: 400, title: 'Invalid request parameters' },
  /** HTTP framing the server cannot parse (src/plugins/framing.ts): bad Content-Length, chunking, header bytes, version, no Host. */
  malformedRequest: { slug: 'malformed-request', status: 400, title: 'Malformed HTTP request' },
  malformedBody: { slug: 'malformed-body', status: 400, title: 'Request body is not valid JSON' },
  unauthorized: { slug: 'unauthorized', status: 401, title: 'Missing or invalid bearer token' },
  notFound: { slug: 'not-found', status: 404, title: 'No such route' },
  unknownItem: { slug: 'unknown-item', status: 404, title: 'Unknown item' },
  modelNotFound: { slug: 'model-not-found', status: 404, title: 'No model bundle at that path' },
  methodNotAllowed: { slug: 'method-not-allowed', status: 405, title: 'Method not allowed' },
  /** Headers or body not received within REQUEST_TIMEOUT_MS. */
  requestTimeout: { slug: 'request-timeout', status: 408, title: 'Request not received in time' },
  reloadInProgress: { slug: 'reload-in-progress', status: 409, title: 'A model reload is already running' },
  payloadTooLarge: { slug: 'payload-too-large', status: 413, title: 'Request body too large' },
  unsupportedMediaType: { slug: 'unsupported-media-type', status: 415, title: 'Unsupported content type' },
  /** The request line and headers exceed node's header limit (16 KiB). */
  headersTooLarge: { slug: 'headers-too-large', status: 431, title: 'Request header fields too large' },
  invalidBundle: { slug: 'invalid-bundle', status: 422, title: 'Model bundle refused' },
  incompatibleQuery: { slug: 'incompatible-query', status: 422, title: 'Query does not fit the active model' },
  notReady: { slug: 'not-ready', status: 503, title: 'Service not ready' },
  /** Load shedding (src/plugins/pressure.ts): always sent with Retry-After. */
  overloaded: { slug: 'overloaded', status: 503, title: 'Service overloaded, retry later' },
  /** Real-time state (Redis) down or slow: events are not acknowledged (a write that timed out may still land: clients retry with the same eventIds). Sent with Retry-After. */
  stateUnavailable: { slug: 'state-unavailable', status: 503, title: 'Real-time state store unavailable, retry later' },
  /** Per-client rate limit (RATE_LIMIT_MAX): sent with Retry-After. */
  rateLimited: { slug: 'rate-limited', status: 429, title: 'Too many requests' },
  internal: { slug: 'internal', status: 500, title: 'Internal server error' },
  /** A request method the HTTP parser does not know (RFC 9110 section 15.6.2). */
  notImplemented: { slug: 'not-implemented', status: 501, title: 'Method not implemented' },
} as const

export type ProblemKey = keyof typeof PROBLEMS

export function problemType (key: ProblemKey): string {
  return TYPE_BASE + PROBLEMS[key].slug
}

export const InvalidParamSchema = z.object({
  /** Where the bad value is: `query.k`, `body.requests.3.itemIds`, `params.userId`. */
  name: z.string(),
  reason: z.string(),
})

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  /** The request id, as in the `x-request-id` response header and the logs. */
  requestId: z.string().optional(),
  invalidParams: z.array(InvalidParamSchema).optional(),
})

export type Problem = z.infer<typeof ProblemSchema>

/** An error the HTTP layer turns into its problem response; anything else becomes a logged 500. */
export class HttpProblem extends Error {
  override name = 'HttpProblem'
  readonly key: ProblemKey
  readonly status: number
  readonly invalidParams: Problem['invalidParams']

  constructor (key: ProblemKey, detail?: string, invalidParams?: Problem['invalidParams']) {
    super(detail ?? PROBLEMS[key].title)
    this.key = key
    this.status = PROBLEMS[key].status
    this.invalidParams = invalidParams
  }

  toProblem (instance?: string, requestId?: string): Problem {
    const entry = PROBLEMS[this.key]
    const p: Problem = { type: problemType(this.key), title: entry.title, status: entry.status, detail: this.message }
    if (instance !== undefined) p.instance = instance
    if (requestId !== undefined) p.requestId = requestId
    if (this.invalidParams !== undefined) p.invalidParams = this.invalidParams
    return p
  }
}
