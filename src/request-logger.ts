/**
 * Per-request loggers made when a request first logs. fastify gives every request a pino child
 * carrying its request id, and pino serializes the child's bindings to a string when it is made.
 * With per-request lines off (LOG_REQUESTS, the default) almost no request logs anything, yet the
 * child cost ~0.8 µs of a 1M worker's ~40 µs cache hit (CPU profile of a 1M worker under
 * `npm run bench:http -- --profile`: pino's child and asChindings). This logger holds the parent and the bindings and makes the real
 * child on its first call, so a failing request's lines still carry its id.
 */
import type { FastifyBaseLogger } from 'fastify'

type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/** pino's overloads (object first, or message first) pass through as given. */
function call (logger: FastifyBaseLogger, level: Level, args: unknown[]): void {
  (logger[level] as (...a: unknown[]) => void).apply(logger, args)
}

export class RequestLogger {
  private made: FastifyBaseLogger | undefined

  constructor (private readonly parent: FastifyBaseLogger, private readonly bindings: Bindings, private readonly options: ChildLoggerOptions) {}

  /** The pino child, made once. */
  private get logger (): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options))
  }

  get level (): string { return this.made?.level ?? this.options.level ?? this.parent.level }
  set level (level: string) { this.logger.level = level }

  // Methods on the prototype, not per-instance closures: a request that never logs allocates one object.
  fatal (...args: unknown[]): void { call(this.logger, 'fatal', args) }
  error (...args: unknown[]): void { call(this.logger, 'error', args) }
  warn (...args: unknown[]): void { call(this.logger, 'warn', args) }
  info (...args: unknown[]): void { call(this.logger, 'info', args) }
  debug (...args: unknown[]): void { call(this.logger, 'debug', args) }
  trace (...args: unknown[]): void { call(this.logger, 'trace', args) }
  silent (...args: unknown[]): void { call(this.logger, 'silent', args) }

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options)
  }
}

/** fastify's childLoggerFactory: a RequestLogger instead of a pino child per request. */
export function lazyChildLogger (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger
}
