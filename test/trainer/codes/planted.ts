/**
 * Synthetic logs with planted structure: users and items in clusters, users interact only with
 * items of their own cluster, and the real-valued vectors are the cluster indicators buried in noise.
 */
import { csrFromPairs, type Csr } from '../../../src/trainer/csr.js'
import { createRng } from '../../../src/trainer/codes/learn-codes.js'

export interface Planted {
  users: number; items: number; dim: number
  userCluster: Int32Array; itemCluster: Int32Array
  train: Csr
  userVectors: Float32Array; itemVectors: Float32Array
}

/**
 * popularity: item k of a cluster has popularity 1 / (1 + k / 3); users pick items in proportion to
 * it and the item vectors carry it as their length, as a real MF model's do.
 */
export function plantedClusters (o: { clusters: number, usersPerCluster: number, itemsPerCluster: number, perUser: number, dim: number, noise: number, seed: number, popularity?: boolean }): Planted {
  const next = createRng(o.seed)
  const popularity = (k: number): number => 1 / (1 + k / 3)
  const gauss = (): number => Math.sqrt(-2 * Math.log(Math.max(next(), 1e-12))) * Math.cos(2 * Math.PI * next())
  const users = o.clusters * o.usersPerCluster
  const items = o.clusters * o.itemsPerCluster
  const userCluster = Int32Array.from({ length: users }, (_, u) => u % o.clusters)
  const itemCluster = Int32Array.from({ length: items }, (_, i) => i % o.clusters)
  const ri: number[] = []; const ci: number[] = []
  for (let u = 0; u < users; u++) {
    const picked = new Set<number>()
    while (picked.size < o.perUser) {
      const k = Math.floor(next() * o.itemsPerCluster)
      if (o.popularity === true && next() > popularity(k)) continue
      picked.add(k * o.clusters + userCluster[u]!)
    }
    for (const i of [...picked].sort((x, y) => x - y)) { ri.push(u); ci.push(i) }
  }
  const vectors = (clusterOf: Int32Array, scale: (r: number) => number): Float32Array => {
    const out = new Float32Array(clusterOf.length * o.dim)
    for (let r = 0; r < clusterOf.length; r++) {
      for (let q = 0; q < o.dim; q++) out[r * o.dim + q] = (q === clusterOf[r]! ? scale(r) : 0) + o.noise * gauss()
    }
    return out
  }
  return {
    users, items, dim: o.dim, userCluster, itemCluster,
    train: csrFromPairs(users, items, Int32Array.from(ri), Int32Array.from(ci)),
    userVectors: vectors(userCluster, () => 1),
    itemVectors: vectors(itemCluster, (i) => (o.popularity === true ? popularity(Math.floor(i / o.clusters)) : 1)),
  }
}
