/**
 * Synthetic (user, item) training pairs for learned retrieval structures over a synthetic catalog:
 * each user (a draw from the catalog's mixture) interacts with its `perUser` highest-inner-product
 * items among the `clustersScanned` mixture components whose centres score highest for it. So the
 * pairs are drawn from the catalog's clusters and follow the inner product the benchmarks'
 * exact oracle ranks by, without a scan of the whole catalog per user.
 */
import type { Csr } from '../../src/trainer/csr.js'
import { itemScore } from '../../src/search/mips/brute-force.js'
import { TopKHeap } from '../../src/search/top-k.js'
import type { SyntheticCatalog } from './synthetic-catalog.js'

export interface SyntheticPairsOptions {
  readonly perUser: number
  readonly clustersScanned: number
}

export function syntheticPairs (cat: SyntheticCatalog, opts: SyntheticPairsOptions): Csr {
  const { dimension: d, itemCount, clusterCount, userCount } = cat
  // Items by cluster (CSR).
  const offsets = new Int32Array(clusterCount + 1)
  for (let i = 0; i < itemCount; i++) offsets[cat.itemClusters[i] + 1]++
  for (let c = 0; c < clusterCount; c++) offsets[c + 1] += offsets[c]
  const fill = offsets.slice(0, clusterCount)
  const members = new Int32Array(itemCount)
  for (let i = 0; i < itemCount; i++) members[fill[cat.itemClusters[i]]++] = i
  const L = Math.min(opts.clustersScanned, clusterCount)
  const m = Math.min(opts.perUser, itemCount)
  const clusterHeap = new TopKHeap(L)
  const itemHeap = new TopKHeap(m)
  const clusters = new Int32Array(L)
  const clusterScores = new Float64Array(L)
  const rows = new Int32Array(m)
  const rowScores = new Float64Array(m)
  const indptr = new Int32Array(userCount + 1)
  const indices = new Int32Array(userCount * m)
  const centres = { itemVectors: cat.centres, itemBias: null, dimension: d, itemCount: clusterCount }
  const items = { itemVectors: cat.itemVectors, itemBias: null, dimension: d, itemCount }
  for (let u = 0; u < userCount; u++) {
    const user = cat.userVectors.subarray(u * d, (u + 1) * d)
    clusterHeap.reset(L)
    for (let c = 0; c < clusterCount; c++) clusterHeap.push(c, itemScore(centres, c, user))
    const nc = clusterHeap.drainInto(clusters, clusterScores)
    itemHeap.reset(m)
    for (let ci = 0; ci < nc; ci++) {
      const c = clusters[ci]
      for (let p = offsets[c]; p < offsets[c + 1]; p++) {
        itemHeap.push(members[p], itemScore(items, members[p], user))
      }
    }
    const n = itemHeap.drainInto(rows, rowScores)
    const sorted = rows.slice(0, n).sort()
    indices.set(sorted, indptr[u])
    indptr[u + 1] = indptr[u] + n
  }
  return { rows: userCount, cols: itemCount, indptr, indices: indices.subarray(0, indptr[userCount]), values: new Float32Array(indptr[userCount]).fill(1) }
}
