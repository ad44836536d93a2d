import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readInteractionLines } from '../../src/trainer/read-interactions.js'
import { fullMatrix } from '../../src/trainer/split.js'
import { itemCounts } from '../../src/trainer/evaluate.js'
import { DEFAULT_MF_OPTIONS, trainHashedMf, type MfModel } from '../../src/trainer/hashed-mf.js'
import { createTableLayout, frequencyOrder, fullLayout, tableSeeds } from '../../src/trainer/table-layout.js'
import { syntheticLog } from './helpers/synthetic-log.js'

const planted = syntheticLog({ users: 120, items: 200, clusters: 4, perUser: 25, noise: 0.03, seed: 5 })
const log = await readInteractionLines(planted.csv.split('\n'))
const matrix = fullMatrix(log)
const userCounts = Float32Array.from({ length: matrix.rows }, (_, u) => matrix.indptr[u + 1] - matrix.indptr[u])
const opts = { ...DEFAULT_MF_OPTIONS, dimension: 16, epochs: 6, cgSteps: 3, seed: 9 }

/** Share of each user's top unseen items (among `candidates`, default all) that belong to the user's planted cluster. */
function clusterPrecision (m: MfModel, candidates?: Set<number>): number {
  const d = m.dimension
  let hits = 0
  let total = 0
  for (let u = 0; u < matrix.rows; u++) {
    const seen = new Set(matrix.indices.subarray(matrix.indptr[u], matrix.indptr[u + 1]))
    const scored: Array<[number, number]> = []
    for (let i = 0; i < matrix.cols; i++) {
      if (seen.has(i) || (candidates && !candidates.has(i))) continue
      let s = 0
      for (let k = 0; k < d; k++) s += m.userVectors[u * d + k] * m.itemVectors[i * d + k]
      scored.push([s, i])
    }
    scored.sort((a, b) => b[0] - a[0] || a[1] - b[1])
    const c = planted.userCluster.get(log.userIds[u])
    // k = min(10, unseen candidates of the user's cluster), so a perfect ranking scores 1.
    const k = Math.min(10, scored.filter(([, i]) => planted.itemCluster.get(log.itemIds[i]) === c).length)
    for (const [, i] of scored.slice(0, k)) { total++; if (planted.itemCluster.get(log.itemIds[i]) === c) hits++ }
  }
  return hits / total
}

function layouts (hashed: boolean) {
  const ic = itemCounts(matrix)
  if (!hashed) return { u: fullLayout(log.userIds, userCounts, tableSeeds(1, 'user')), i: fullLayout(log.itemIds, ic, tableSeeds(1, 'item')) }
  // As planBudget does on ml-latest-small: every user dedicated, items split into a dedicated head
  // and a hashed tail (here 60 + 30 rows for 200 items).
  return {
    u: createTableLayout(log.userIds, frequencyOrder(userCounts), 0, tableSeeds(1, 'user')),
    i: createTableLayout(log.itemIds, frequencyOrder(ic).slice(0, 60), 30, tableSeeds(1, 'item')),
  }
}

test('unhashed iALS recovers the planted clusters: >= 95% of top-10 items in the user cluster', async () => {
  const l = layouts(false)
  const m = await trainHashedMf(matrix, l.u, l.i, opts)
  assert.ok(clusterPrecision(m) >= 0.95, `precision ${clusterPrecision(m)}`)
})

test('iALS through hybrid-hashed tables recovers the clusters on the dedicated head, within 0.05 of the unhashed model', async () => {
  const l = layouts(true)
  const f = layouts(false)
  const m = await trainHashedMf(matrix, l.u, l.i, opts)
  const full = await trainHashedMf(matrix, f.u, f.i, opts)
  const head = new Set(l.i.dedicatedIds)
  // Measured: 0.895 hashed vs 0.926 unhashed on this log (noise items cap both below 1).
  assert.ok(clusterPrecision(m, head) >= 0.85, `precision ${clusterPrecision(m, head)}`)
  assert.ok(clusterPrecision(m, head) >= clusterPrecision(full, head) - 0.05)
  // The hashed tail shares 30 rows among 140 items of mixed clusters: it cannot carry the cluster
  // signal (sums of two mixed rows), which is why the head gets the dedicated rows.
  assert.ok(clusterPrecision(m) < clusterPrecision(m, head))
})

test('one thread: the loss never increases (exact block steps, shared rows included) and the same seed gives identical tensors', async () => {
  const l = layouts(true)
  const losses: number[] = []
  const a = await trainHashedMf(matrix, l.u, l.i, { ...opts, regExponent: 0, reg: 0.05, onEpoch: ({ loss }) => losses.push(loss) })
  for (let e = 1; e < losses.length; e++) assert.ok(losses[e] <= losses[e - 1] * (1 + 1e-9), `epoch ${e + 1}: ${losses[e]} > ${losses[e - 1]}`)
  const b = await trainHashedMf(matrix, l.u, l.i, { ...opts, regExponent: 0, reg: 0.05 })
  assert.deepEqual(a.itemParams, b.itemParams)
  assert.deepEqual(a.userParams, b.userParams)
  const c = await trainHashedMf(matrix, l.u, l.i, { ...opts, regExponent: 0, reg: 0.05, seed: 10 })
  assert.notDeepEqual(a.itemParams, c.itemParams)
})

test('two threads (asynchronous shared-memory sweeps) reach the same quality as one thread', async () => {
  const l = layouts(true)
  const one = await trainHashedMf(matrix, l.u, l.i, opts)
  const two = await trainHashedMf(matrix, l.u, l.i, { ...opts, threads: 2 })
  const head = new Set(l.i.dedicatedIds)
  assert.ok(Math.abs(clusterPrecision(one, head) - clusterPrecision(two, head)) <= 0.03, `${clusterPrecision(one, head)} vs ${clusterPrecision(two, head)}`)
})

test('a dimension that is not a multiple of 4 takes the plain loops and still recovers the clusters', async () => {
  const l = layouts(false)
  const m = await trainHashedMf(matrix, l.u, l.i, { ...opts, dimension: 6 })
  assert.equal(m.userVectors.length, matrix.rows * 6)
  assert.ok(clusterPrecision(m) >= 0.9, `precision ${clusterPrecision(m)}`)
})
