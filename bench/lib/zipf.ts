/** Zipf(1) ranks for the benchmarks' traffic: popular users and items first, a long tail after. */

/** Cumulative Zipf(1) weights over n ranks (unnormalised: the last is the harmonic number H(n)). */
export function zipfCdf (n: number): Float64Array {
  const cdf = new Float64Array(n)
  let acc = 0
  for (let r = 0; r < n; r++) { acc += 1 / (r + 1); cdf[r] = acc }
  return cdf
}

/** The rank (0-based) a uniform draw `u` in [0, 1) falls on. */
export function zipfRank (cdf: Float64Array, u: number): number {
  const target = u * cdf[cdf.length - 1]
  let lo = 0
  let hi = cdf.length - 1
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid] < target) lo = mid + 1; else hi = mid }
  return lo
}
