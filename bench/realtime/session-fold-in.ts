/**
 * Session fold-in: the mean of the session items' vectors against the least-squares iALS user step
 * (src/realtime/fold-in.ts). For every user of the bundle with at least MIN_SEEN training items, a
 * seeded random half of them is the session and the other half is held out; both query vectors
 * rank every item (exact inner product, session items excluded) and we count held-out items in the
 * top K. Usage: node --import tsx bench/realtime/session-fold-in.ts [--model models/default] [--k 20]
 */
import { parseArgs } from 'node:util'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { createFoldInScratch, foldInVector } from '../../src/realtime/fold-in.js'

const { values } = parseArgs({ options: { model: { type: 'string', default: 'models/default' }, k: { type: 'string', default: '20' }, seed: { type: 'string', default: '7' } } })
const K = Number(values.k)
const MIN_SEEN = 10
const model = await loadModel(values.model, { hnsw: false })
if (model.userSeen === null) throw new Error('the bundle has no user_seen tensor')
const { indptr, items: seenItems } = model.userSeen
const d = model.dimension
const n = model.items.size
let state = Number(values.seed) >>> 0
const rand = (): number => { state = (Math.imul(state, 1664525) + 1013904223) >>> 0; return state / 4294967296 }

const scores = new Float64Array(n)
const inSession = new Uint8Array(n)
const heldOut = new Uint8Array(n)
const scratch = createFoldInScratch(d)
const q = new Float32Array(d)

function hitsAtK (): number {
  const v = model.itemVectors
  for (let i = 0; i < n; i++) {
    let s = model.itemBias ? model.itemBias[i] : 0
    for (let j = 0; j < d; j++) s += q[j] * v[i * d + j]
    scores[i] = inSession[i] ? -Infinity : s
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]).slice(0, K)
  return order.reduce((acc, i) => acc + heldOut[i], 0)
}

let users = 0
let held = 0
const hits = { mean: 0, leastSquares: 0 }
let foldMs = 0
for (let u = 0; u < model.users.size; u++) {
  const rows = Array.from(seenItems.subarray(indptr[u], indptr[u + 1]))
  if (rows.length < MIN_SEEN) continue
  for (let i = rows.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [rows[i], rows[j]] = [rows[j], rows[i]] }
  const half = rows.length >> 1
  const session = Int32Array.from(rows.slice(0, half))
  for (const r of session) inSession[r] = 1
  for (const r of rows.slice(half)) heldOut[r] = 1
  users++
  held += Math.min(K, rows.length - half)

  q.fill(0)
  for (const r of session) for (let j = 0; j < d; j++) q[j] += model.itemVectors[r * d + j] / session.length
  hits.mean += hitsAtK()

  const t0 = performance.now()
  foldInVector(model, session, session.length, q, scratch)
  foldMs += performance.now() - t0
  hits.leastSquares += hitsAtK()

  for (const r of rows) { inSession[r] = 0; heldOut[r] = 0 }
}

console.log(`model ${model.id}@${model.version}: ${users} users with >= ${MIN_SEEN} training items, d = ${d}, foldIn ${JSON.stringify(model.foldIn)}`)
console.log(`recall@${K} of the held-out half: mean ${(hits.mean / held).toFixed(4)}, least-squares fold-in ${(hits.leastSquares / held).toFixed(4)}`)
console.log(`least-squares fold-in: ${(foldMs / users * 1000).toFixed(1)} us per session on average`)
