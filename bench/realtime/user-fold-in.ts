/**
 * Cost of a user recommendation with real-time state, per user of a bundle: the learned row alone;
 * fold-in over the user's training items plus one new history item, solved (what a dedicated
 * user's first request after a click costs); and the same request again, answered from the
 * fold-in cache (FOLD_IN_CACHE_BYTES); and a request with a full 200-item history, from the cache
 * (what every request of a heavy real-time user costs). Usage: node --import tsx bench/realtime/user-fold-in.ts [--model models/default]
 *
 * `--solve-rows N[,N...]`: only the least-squares solve over N distinct items (a solved user's
 * fold-in at the MAX_FOLD_IN_TRAINING_ITEMS cap is N = 1500), on the bundle's item vectors, or with
 * `--synthetic` on 20,000 random 64-dimensional ones (no bundle needed); the JavaScript rank
 * update and the WebAssembly SIMD kernel side by side on the same rows.
 */
import { parseArgs } from 'node:util'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { computeItemGram } from '../../src/model-loader/item-vectors.js'
import { createFoldInScratch, foldInVector } from '../../src/realtime/fold-in.js'
import { createModelEngines } from '../../src/search/engines.js'
import { createRecommender } from '../../src/recommend/recommender.js'

const { values } = parseArgs({ options: { model: { type: 'string', default: 'models/default' }, 'solve-rows': { type: 'string' }, synthetic: { type: 'boolean', default: false } } })

function percentiles (ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b)
  const at = (p: number): string => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3)
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${s[s.length - 1].toFixed(3)} ms`
}

if (values['solve-rows'] !== undefined) {
  const sizes = values['solve-rows'].split(',').map(Number)
  let seed = 12345
  const rand = (): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32 }
  const solveModel = values.synthetic
    ? (() => {
        const count = 20_000
        const dimension = 64
        const itemVectors = Float32Array.from({ length: count * dimension }, () => (rand() - 0.5) * 0.2)
        return { dimension, itemVectors, itemGram: computeItemGram(itemVectors, count, dimension), foldIn: { alpha: 10, reg: 0.1, regExponent: 0 }, count }
      })()
    : await loadModel(values.model, { hnsw: false }).then((m) => ({ ...m, count: m.items.size }))
  const d = solveModel.dimension
  // The JavaScript loop and the WebAssembly kernel on the same rows, alternating which goes first,
  // so that other jobs' load falls on both alike.
  const paths = [
    ['JavaScript', createFoldInScratch(d, { wasm: false })],
    ['WebAssembly SIMD', createFoldInScratch(d)],
  ] as const
  if (paths[1][1].kernel === null) throw new Error('WebAssembly SIMD is not available here')
  const outs = [new Float32Array(d), new Float32Array(d)]
  const all = Int32Array.from({ length: solveModel.count }, (_, i) => i)
  for (const n of sizes) {
    if (n > solveModel.count) throw new Error(`--solve-rows ${n} is more than the ${solveModel.count} items`)
    const times: number[][] = [[], []]
    let maxDiff = 0
    for (let round = 0; round < 600; round++) {
      // n distinct random items: a partial Fisher-Yates shuffle of the catalog rows.
      for (let i = 0; i < n; i++) { const j = i + Math.floor(rand() * (solveModel.count - i)); const x = all[i]; all[i] = all[j]; all[j] = x }
      const rows = all.subarray(0, n)
      for (let k = 0; k < 2; k++) {
        const p = (round + k) % 2
        const t0 = performance.now()
        if (!foldInVector(solveModel, rows, n, outs[p], paths[p][1])) throw new Error('solve failed')
        if (round >= 100) times[p].push(performance.now() - t0)
      }
      for (let j = 0; j < d; j++) maxDiff = Math.max(maxDiff, Math.abs(outs[0][j] - outs[1][j]) / Math.max(1e-30, Math.abs(outs[0][j])))
    }
    for (let p = 0; p < 2; p++) console.log(`fold-in solve over ${n} items, d = ${d}, ${paths[p][0]}: ${percentiles(times[p])} over ${times[p].length} solves`)
    console.log(`  largest relative difference between the two (float32 outputs): ${maxDiff.toExponential(2)}`)
  }
  process.exit(0)
}

const model = await loadModel(values.model)
const engines = createModelEngines(model)
const solving = createRecommender(model, engines, { foldInCacheBytes: 0 })
const caching = createRecommender(model, engines)
const seen = model.userSeen
if (seen === null) throw new Error('the bundle has no user_seen tensor')
const opts = { k: 10, method: 'hybrid' as const }

// A full history (HISTORY_LENGTH's default 200 items), as a heavy real-time user has.
const longHistory = Array.from({ length: 200 }, (_, i) => model.items.idAt((i * 7919) % model.items.size))
const modes = [
  ['learned row, training items excluded', 0, solving],
  ['fold-in: training items + 1 new history item, solved', 1, solving],
  ['fold-in: the same request again, from the fold-in cache', 1, caching],
  ['a 200-item history, again, from the fold-in cache', 200, caching],
] as const
for (const [label, historyItems, rec] of modes) {
  const withHistory = historyItems > 0
  const times: number[] = []
  for (let round = 0; round < 2; round++) {
    for (let u = 0; u < model.users.size; u++) {
      const id = model.users.idAt(u)
      const first = seen.indptr[u] < seen.indptr[u + 1] ? seen.items[seen.indptr[u]] : -1
      const fresh = model.items.idAt((first + 1) % model.items.size)
      const t0 = performance.now()
      const r = rec.forUser(id, opts, historyItems === 1 ? { history: [fresh] } : historyItems > 1 ? { history: longHistory } : {})
      if (round === 1) times.push(performance.now() - t0)
      if (withHistory && r.source !== 'history' && r.source !== 'dedicated') throw new Error(`unexpected source ${r.source}`)
    }
  }
  console.log(`${label}: ${percentiles(times)} over ${times.length} users (hybrid, k = 10)`)
}
let max = 0
for (let u = 0; u < model.users.size; u++) max = Math.max(max, seen.indptr[u + 1] - seen.indptr[u])
console.log(`largest training set of one user: ${max} items, d = ${model.dimension}`)
