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

/** Merges the current and previous eras' top lists into decayed scores, best first. */
export function mergeEras (
  current: ReadonlyArray<readonly [string, number]>,
  previous: ReadonlyArray<readonly [string, number]>,
  now: number, era: number, halfLifeMs: number, limit: number,
): Array<{ itemId: string, score: number }> {
  const scores = new Map<string, number>()
  const cur = readScale(now, era, halfLifeMs)
  const prev = readScale(now, era - 1, halfLifeMs)
  for (const [id, raw] of current) scores.set(id, raw * cur)
  for (const [id, raw] of previous) scores.set(id, (scores.get(id) ?? 0) + raw * prev)
  return [...scores].map(([itemId, score]) => ({ itemId, score }))
    .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0))
    .slice(0, limit)
}
