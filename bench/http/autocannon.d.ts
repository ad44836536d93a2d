// autocannon ships no types (and @types/autocannon is not a dependency): the part this bench uses.
declare module 'autocannon' {
  interface Histogram { average: number, p99: number, mean: number }
  interface Result { requests: Histogram & { total: number }, latency: Histogram, non2xx: number, errors: number }
  interface Options { url: string, connections?: number, duration?: number, pipelining?: number }
  function autocannon (options: Options): Promise<Result>
  export default autocannon
}
