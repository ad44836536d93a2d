/**
 * Per-user temporal holdout: the latest 20% of each user's interactions (by timestamp, by file
 * order when there is none or on ties) are test, the rest train. The split behind the published reference numbers for ml-latest-small (iALS 0.112, EASE 0.133, popularity 0.082 Recall@10).
 */
import { csrFromPairs, type Csr } from './csr.js'
import type { Interactions } from './read-interactions.js'
import { createRng } from './rng.js'

export interface Split {
  /** users x items, value = number of train interactions of the pair. */
  readonly train: Csr
  /** users x items, test items the user did not interact with in train. */
  readonly test: Csr
}

export const TEST_SHARE = 0.2

/** Row order of each user's interactions: by user, then time, then file position. */
function orderByUserThenTime (log: Interactions): { order: Int32Array, start: Int32Array } {
  const nUsers = log.userIds.length
  const start = new Int32Array(nUsers + 1)
  for (let k = 0; k < log.count; k++) start[log.users[k] + 1]++
  for (let u = 0; u < nUsers; u++) start[u + 1] += start[u]
  const fill = start.slice(0, nUsers)
  const order = new Int32Array(log.count)
  for (let k = 0; k < log.count; k++) order[fill[log.users[k]]++] = k
  const ts = log.timestamps
  if (ts !== null) {
    for (let u = 0; u < nUsers; u++) {
      const seg = order.subarray(start[u], start[u + 1])
      // Stable on equal timestamps: file order breaks ties (the index is the file position).
      seg.sort((a, b) => (ts[a] - ts[b]) || (a - b))
    }
  }
  return { order, start }
}

/** Train count of a user with n interactions: floor(0.8 n) in exact integer arithmetic. */
export function trainCount (n: number): number {
  return Math.floor((n * Math.round((1 - TEST_SHARE) * 100)) / 100)
}

export function splitByTime (log: Interactions): Split {
  const nUsers = log.userIds.length
  const nItems = log.itemIds.length
  const { order, start } = orderByUserThenTime(log)
  const trU = new Int32Array(log.count)
  const trI = new Int32Array(log.count)
  const teU = new Int32Array(log.count)
  const teI = new Int32Array(log.count)
  let nTr = 0
  let nTe = 0
  for (let u = 0; u < nUsers; u++) {
    const s = start[u]
    const n = start[u + 1] - s
    const cut = s + trainCount(n)
    for (let p = s; p < start[u + 1]; p++) {
      const k = order[p]
      if (p < cut) { trU[nTr] = u; trI[nTr++] = log.items[k] } else { teU[nTe] = u; teI[nTe++] = log.items[k] }
    }
  }
  const train = csrFromPairs(nUsers, nItems, trU, trI, undefined, nTr)
  const testAll = csrFromPairs(nUsers, nItems, teU, teI, undefined, nTe)
  return { train, test: withoutTrainItems(testAll, train) }
}

/** All interactions as one matrix (the refit on the whole log for the exported model). */
export function fullMatrix (log: Interactions): Csr {
  return csrFromPairs(log.userIds.length, log.itemIds.length, log.users, log.items, undefined, log.count)
}

export function withoutTrainItems (test: Csr, train: Csr): Csr {
  const indptr = new Int32Array(test.rows + 1)
  const indices = new Int32Array(test.indices.length)
  const values = new Float32Array(test.indices.length)
  let out = 0
  for (let u = 0; u < test.rows; u++) {
    indptr[u] = out
    let q = train.indptr[u]
    const qEnd = train.indptr[u + 1]
    for (let p = test.indptr[u]; p < test.indptr[u + 1]; p++) {
      const i = test.indices[p]
      while (q < qEnd && train.indices[q] < i) q++
      if (q < qEnd && train.indices[q] === i) continue
      indices[out] = i
      values[out++] = 1
    }
  }
  indptr[test.rows] = out
  return { rows: test.rows, cols: test.cols, indptr, indices: indices.slice(0, out), values: values.slice(0, out) }
}

/**
 * Keeps the test rows of at most `maxUsers` users (a seeded uniform sample of the users with test
 * items); the others get empty rows, which the evaluation skips. Exhaustive ranking costs
 * users x items x dimension per model: fine for ml-latest-small (610 users), hours for
 * MovieLens-25M (162k users x 59k items). The sample's standard error is the per-user recall
 * spread over sqrt(maxUsers).
 */
export function sampleTestUsers (test: Csr, maxUsers: number, seed: number): Csr {
  const withTest: number[] = []
  for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1] > test.indptr[u]) withTest.push(u)
  if (withTest.length <= maxUsers) return test
  const rng = createRng(seed ^ 0x5eed)
  for (let k = withTest.length - 1; k > 0; k--) {
    const j = Math.floor(rng.next() * (k + 1))
    const t = withTest[k]; withTest[k] = withTest[j]; withTest[j] = t
  }
  const keep = new Uint8Array(test.rows)
  for (let k = 0; k < maxUsers; k++) keep[withTest[k]] = 1
  const indptr = new Int32Array(test.rows + 1)
  let n = 0
  for (let u = 0; u < test.rows; u++) {
    indptr[u] = n
    if (keep[u]) n += test.indptr[u + 1] - test.indptr[u]
  }
  indptr[test.rows] = n
  const indices = new Int32Array(n)
  const values = new Float32Array(n)
  for (let u = 0; u < test.rows; u++) {
    if (!keep[u]) continue
    indices.set(test.indices.subarray(test.indptr[u], test.indptr[u + 1]), indptr[u])
    values.set(test.values.subarray(test.indptr[u], test.indptr[u + 1]), indptr[u])
  }
  return { rows: test.rows, cols: test.cols, indptr, indices, values }
}
