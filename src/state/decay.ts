/**
 * Time-decayed counts without a decay job (shared by the in-process and Redis stores).
 *
 * An event at time t adds w * 2^((t - eraStart) / halfLife) to its item in the current era's
 * sorted set; dividing by 2^((now - eraStart) / halfLife) at read time gives the exponentially
 * decayed sum, so a plain ZINCRBY does all the work and replicas need no leader. Eras last
 * ERA_HALF_LIVES half-lives so factors stay below 2^64 (exact enough in a double); a read merges
 * the current era with the previous one, scaled by 2^-ERA_HALF_LIVES.
 */
export const ERA_HALF_LIVES = 48

export function eraOf (t: number, halfLifeMs: number): number {
  return Math.floor(t / (halfLifeMs * ERA_HALF_LIVES))
}

export function eraStart (era: number, halfLifeMs: number): number {
  return era * halfLifeMs * ERA_HALF_LIVES
}

/** The amount to add to the era-`era` set for an event of weight w at time t. */
export function boost (weight: number, t: number, era: number, halfLifeMs: number): number {
  return weight * 2 ** ((t - eraStart(era, halfLifeMs)) / halfLifeMs)
}

/** Multiplier that turns raw era-`era` scores into decayed scores at time `now`. */
export function readScale (now: number, era: number, halfLifeMs: number): number {
  return 2 ** (-(now - eraStart(era, halfLifeMs)) / halfLifeMs)
}

/** Previous-era raw scores in the current era's units (readScale(t, era - 1) / readScale(t, era)): an exact power of two. */
const PREVIOUS_ERA = 2 ** -ERA_HALF_LIVES

/**
 * The current and previous eras' top lists merged into raw scores in the current era's units,
 * best first (ties by item id), at most `limit`. Decay scales every item by the same factor, so the
 * order does not depend on the time of the read: a store can keep the list until its next write.
 */
export function mergeRaw (
  current: ReadonlyArray<readonly [string, number]>,
  previous: ReadonlyArray<readonly [string, number]>,
  limit: number,
): Array<readonly [string, number]> {
  if (current.length === 0 && previous.length === 0) return []
  const scores = new Map<string, number>()
  for (const [id, raw] of current) scores.set(id, raw)
  for (const [id, raw] of previous) scores.set(id, (scores.get(id) ?? 0) + raw * PREVIOUS_ERA)
  return [...scores].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit)
}

/** A merged list's decayed scores at time `now`. */
export function decayed (merged: ReadonlyArray<readonly [string, number]>, now: number, era: number, halfLifeMs: number): Array<{ itemId: string, score: number }> {
  const scale = readScale(now, era, halfLifeMs)
  const out = new Array<{ itemId: string, score: number }>(merged.length)
  for (let i = 0; i < merged.length; i++) out[i] = { itemId: merged[i][0], score: merged[i][1] * scale }
  return out
}

/** Merges the current and previous eras' top lists into decayed scores, best first. */
export function mergeEras (
  current: ReadonlyArray<readonly [string, number]>,
  previous: ReadonlyArray<readonly [string, number]>,
  now: number, era: number, halfLifeMs: number, limit: number,
): Array<{ itemId: string, score: number }> {
  return decayed(mergeRaw(current, previous, limit), now, era, halfLifeMs)
}
