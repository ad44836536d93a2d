// autocannon ships no types (and @types/autocannon is not a dependency): the part these benches use.
declare module 'autocannon' {
  export interface Histogram { average: number, p50: number, p90: number, p99: number, mean: number, max: number }
  export interface Result {
    requests: Histogram & { total: number }
    latency: Histogram
    non2xx: number
    errors: number
    timeouts: number
    duration: number
    statusCodeStats?: Record<string, { count: number }>
  }
  export interface Request { method?: string, path?: string, body?: string | undefined, headers?: Record<string, string> }
  export interface RequestSpec extends Request { setupRequest?: (req: Request, context: unknown) => Request }
  export interface Options {
    url: string
    connections?: number
    duration?: number
    pipelining?: number
    /** Requests per second across all connections (autocannon splits it between them). */
    overallRate?: number
    /** Seconds before a request counts as a timeout. */
    timeout?: number
    requests?: RequestSpec[]
  }
  function autocannon (options: Options): Promise<Result>
  export default autocannon
}
