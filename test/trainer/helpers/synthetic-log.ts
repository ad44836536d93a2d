/**
 * Synthetic interaction logs with planted structure: users and items fall into `clusters` groups;
 * a user interacts with items of its own group (plus a little noise), so the right top items
 * for a user are known: the unseen items of its group.
 */
import { createRng } from '../../../src/trainer/rng.js'

export interface SyntheticLog {
  readonly csv: string
  readonly userCluster: Map<string, number>
  readonly itemCluster: Map<string, number>
}

export function syntheticLog (opts: { users: number, items: number, clusters: number, perUser: number, noise?: number, seed?: number, header?: boolean, delimiter?: string }): SyntheticLog {
  const rng = createRng(opts.seed ?? 1)
  const sep = opts.delimiter ?? ','
  const lines: string[] = opts.header === false ? [] : [['user', 'item', 'rating', 'timestamp'].join(sep)]
  const userCluster = new Map<string, number>()
  const itemCluster = new Map<string, number>()
  const itemsOf: string[][] = Array.from({ length: opts.clusters }, () => [])
  for (let i = 0; i < opts.items; i++) {
    const id = `i${i}`
    itemCluster.set(id, i % opts.clusters)
    itemsOf[i % opts.clusters].push(id)
  }
  let t = 1_000_000
  for (let u = 0; u < opts.users; u++) {
    const id = `u${u}`
    const c = u % opts.clusters
    userCluster.set(id, c)
    const seen = new Set<string>()
    for (let n = 0; n < opts.perUser; n++) {
      const noisy = rng.next() < (opts.noise ?? 0.05)
      const pool = noisy ? itemsOf[Math.floor(rng.next() * opts.clusters)] : itemsOf[c]
      // Skewed popularity inside a cluster, so the frequency dictionary has something to rank.
      const item = pool[Math.floor(pool.length * rng.next() ** 2)]
      if (seen.has(item)) continue
      seen.add(item)
      lines.push([id, item, (1 + Math.floor(rng.next() * 5)).toFixed(1), String(t++)].join(sep))
    }
  }
  return { csv: lines.join('\n') + '\n', userCluster, itemCluster }
}
