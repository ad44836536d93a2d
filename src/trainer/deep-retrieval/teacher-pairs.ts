/**
 * Training pairs from the served model itself: each user with its `perUser` best items by exact
 * inner product among those it has not interacted with, the ones an exhaustive search serves. The
 * structure then learns where a user's exhaustive answer lies, which the user's own (excluded)
 * training items only suggest.
 */
import type { Csr } from '../csr.js'
import { createFullScan } from './full-scan.js'

export function teacherPairs (userVectors: Float32Array, itemVectors: Float32Array, dimension: number, train: Csr, perUser: number): Csr {
  const users = train.rows
  const scan = createFullScan({ itemVectors, itemBias: null, dimension, itemCount: train.cols }, train)
  const top = new Int32Array(perUser)
  const indptr = new Int32Array(users + 1)
  const indices = new Int32Array(users * perUser)
  for (let user = 0; user < users; user++) {
    indptr[user + 1] = indptr[user]
    if (train.indptr[user + 1] === train.indptr[user]) continue
    const n = scan.topK(userVectors.subarray(user * dimension, (user + 1) * dimension), perUser, user, top)
    indices.set(top.subarray(0, n).sort(), indptr[user])
    indptr[user + 1] = indptr[user] + n
  }
  return { rows: users, cols: train.cols, indptr, indices: indices.subarray(0, indptr[users]), values: new Float32Array(indptr[users]).fill(1) }
}

/** The union of two users x items matrices' pairs (each row sorted, duplicates once). */
export function unionPairs (a: Csr, b: Csr): Csr {
  const indptr = new Int32Array(a.rows + 1)
  const out = new Int32Array(a.indptr[a.rows] + b.indptr[b.rows])
  let n = 0
  for (let u = 0; u < a.rows; u++) {
    let p = a.indptr[u]
    let q = b.indptr[u]
    const pe = a.indptr[u + 1]
    const qe = b.indptr[u + 1]
    while (p < pe || q < qe) {
      const x = p < pe ? a.indices[p] : Infinity
      const y = q < qe ? b.indices[q] : Infinity
      const v = Math.min(x, y)
      out[n++] = v
      if (x === v) p++
      if (y === v) q++
    }
    indptr[u + 1] = n
  }
  return { rows: a.rows, cols: a.cols, indptr, indices: out.slice(0, n), values: new Float32Array(n).fill(1) }
}
