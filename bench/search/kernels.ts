/**
 * The hybrid's stages one at a time, each A/B in one process over the same queries, in interleaved
 * rounds (the shared machine's drift hits both sides alike), CPU time per query:
 *   1. candidate stage on 1M clustered synthetic codes (bounded, C = 200, 8 codes per candidate):
 *      the JavaScript multi-index loop against the WebAssembly kernel, and the kernel asked for
 *      ordered against unordered candidates (the hybrid's), also with the caches cleared before
 *      every query (8 MiB written, not timed): a busy server's misses find the tables out of cache;
 *   2. re-rank of those candidates (k = 10): every candidate scored from the float vectors against
 *      the int8 prefilter, with how many candidates the prefilter scored exactly and whether the
 *      results were identical;
 *   3. the linear scan: its radius pass against its two-pass mode, on the 1M codes, and on
 *      models/default (when trained) with each user's seen items excluded, skipped inside the scan
 *      (a listed set) or over-fetched for (a set it cannot list).
 *
 *   npm run bench:kernels -- [--items 1000000] [--queries 2000] [--rounds 5] [--model models/default]
 */
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { createLinearHammingScan } from '../../src/search/hamming/linear-scan.js'
import { createMultiIndexHamming } from '../../src/search/hamming/multi-index.js'
import { createHybridReranker } from '../../src/search/hybrid.js'
import { createInt8Prefilter } from '../../src/search/mips/int8-prefilter.js'
import type { ExcludeSet, TopK } from '../../src/search/types.js'
import { generateSyntheticCatalog } from '../lib/synthetic-catalog.js'

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    model: { type: 'string', default: 'models/default' },
  },
})
const N = Number(values.items)
const Q = Number(values.queries)
const ROUNDS = Number(values.rounds)
const C = 200
const K = 10

/** CPU microseconds per call of each contender, interleaved rounds, median over rounds. */
function ab (contenders: Record<string, (q: number) => void>, queries: number): Record<string, number> {
  const names = Object.keys(contenders)
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
  for (const n of names) for (let q = 0; q < Math.min(queries, 200); q++) contenders[n](q)
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of names) {
      const c0 = process.cpuUsage()
      for (let q = 0; q < queries; q++) contenders[n](q)
      const c = process.cpuUsage(c0)
      times[n].push((c.user + c.system) / queries)
    }
  }
  return Object.fromEntries(names.map((n) => [n, times[n].sort((a, b) => a - b)[Math.floor(times[n].length / 2)]]))
}

function table (title: string, rows: [string, string][]): void {
  console.log(`\n${title}\n\n| contender | CPU µs per query (median of ${ROUNDS} rounds) |\n|---|---:|`)
  for (const [name, v] of rows) console.log(`| ${name} | ${v} |`)
}

console.error(`generating ${N} clustered synthetic items ...`)
const cat = generateSyntheticCatalog({ items: N, dimension: 64, codeBits: 64, seed: 1, queries: Q })
const code = (q: number): Uint32Array => cat.queryCodes.subarray(q * 2, q * 2 + 2)
const vec = (q: number): Float32Array => cat.queryVectors.subarray(q * 64, q * 64 + 64)
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${N} items, ${Q} queries`)

// Written between the cold queries (outside their timing), to push the tables out of the caches.
const thrash = new Int32Array((8 << 20) / 4)
let thrashSum = 0
/** CPU µs per query with the caches cleared before each, median of rounds (the clearing not timed). */
function coldAb (contenders: Record<string, (q: number) => void>, queries: number): Record<string, number> {
  const names = Object.keys(contenders)
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of names) {
      let ns = 0
      for (let q = 0; q < queries; q++) {
        for (let i = 0; i < thrash.length; i += 16) thrashSum += thrash[i]++
        const t0 = process.hrtime.bigint()
        contenders[n](q)
        ns += Number(process.hrtime.bigint() - t0)
      }
      times[n].push(ns / 1000 / queries)
    }
  }
  return Object.fromEntries(names.map((n) => [n, times[n].sort((a, b) => a - b)[Math.floor(times[n].length / 2)]]))
}

const js = createMultiIndexHamming(cat.itemCodes, 2, N, { kernel: 'js' })
const wasm = createMultiIndexHamming(cat.itemCodes, 2, N, { kernel: 'wasm' })
const maxCodes = C * 8
const stage = ab({
  'JavaScript loop, ordered': (q) => { js.search(code(q), C, undefined, maxCodes) },
  'WebAssembly kernel, ordered': (q) => { wasm.search(code(q), C, undefined, maxCodes) },
  'WebAssembly kernel, unordered (the hybrid)': (q) => { wasm.search(code(q), C, undefined, maxCodes, false) },
}, Q)
table(`Candidate stage: bounded multi-index top-${C}, 8 codes per candidate, m = ${wasm.m}`, Object.entries(stage).map(([n, v]) => [n, v.toFixed(1)]))
const coldStage = coldAb({ 'WebAssembly kernel, unordered, caches cleared before each query (wall µs)': (q) => { wasm.search(code(q), C, undefined, maxCodes, false) } }, Q)
for (const [n, v] of Object.entries(coldStage)) console.log(`| ${n} | ${v.toFixed(1)} |`)

const radiusScan = createLinearHammingScan(cat.itemCodes, 2, N, { mode: 'radius' })
const twoPassScan = createLinearHammingScan(cat.itemCodes, 2, N, { mode: 'two-pass' })
const autoScan = createLinearHammingScan(cat.itemCodes, 2, N)
const scans = ab({
  'radius pass': (q) => { radiusScan.search(code(q), C) },
  'two passes': (q) => { twoPassScan.search(code(q), C) },
  'auto (the default)': (q) => { autoScan.search(code(q), C) },
}, Math.min(Q, 300))
table(`Linear scan, exact top-${C} of ${N} clustered synthetic codes (the tables' fallback)`, Object.entries(scans).map(([n, v]) => [n, v.toFixed(1)]))

const items = { itemVectors: cat.itemVectors, itemBias: null, dimension: 64, itemCount: N }
const candidates: TopK[] = []
for (let q = 0; q < Q; q++) candidates.push(wasm.search(code(q), C, undefined, maxCodes, false) ?? { rows: new Int32Array(0), scores: new Float32Array(0), candidatesExamined: 0 })
const float = createHybridReranker(items, false)
const int8 = createHybridReranker(items, true)
await int8.whenReady
let same = 0
for (let q = 0; q < Q; q++) {
  const a = float(candidates[q], vec(q), K)
  const b = int8(candidates[q], vec(q), K)
  if (a.rows.join() === b.rows.join() && a.scores.join() === b.scores.join()) same++
}
// The int8 copy's build: wall time, and the longest the event loop waited meanwhile.
let longestGap = 0
let last = performance.now()
const ticker = setInterval(() => { const now = performance.now(); longestGap = Math.max(longestGap, now - last); last = now }, 1)
await new Promise((resolve) => setTimeout(resolve, 20))
longestGap = 0
last = performance.now()
const built = performance.now()
const filter = createInt8Prefilter(items, C)!
await filter.whenReady
const buildMs = performance.now() - built
clearInterval(ticker)
console.log(`\nint8 copy of ${N} x 64: built in ${buildMs.toFixed(0)} ms, longest event-loop gap meanwhile ${longestGap.toFixed(1)} ms`)
const out = new Int32Array(C)
const scores = new Float64Array(C)
let rescored = 0
for (let q = 0; q < Q; q++) rescored += filter.filter(candidates[q].rows, candidates[q].rows.length, vec(q), K, out, scores)
const rerank = ab({
  'every candidate scored from float32': (q) => { float(candidates[q], vec(q), K) },
  'int8 prefilter, exact scores where the bound reaches the top k': (q) => { int8(candidates[q], vec(q), K) },
}, Q)
table(`Re-rank of ${C} candidates to k = ${K}: identical results in ${same} of ${Q} queries; ${(rescored / Q).toFixed(1)} candidates scored exactly per query through the prefilter`, Object.entries(rerank).map(([n, v]) => [n, v.toFixed(1)]))
const coldRerank = coldAb({ 'int8 prefilter, caches cleared before each query (wall µs)': (q) => { int8(candidates[q], vec(q), K) } }, Q)
for (const [n, v] of Object.entries(coldRerank)) console.log(`| ${n} | ${v.toFixed(1)} |`)
if (thrashSum === 0.5) console.log('')

if (existsSync(`${values.model}/manifest.json`)) {
  const model = await loadModel(values.model)
  const scan = createLinearHammingScan(model.itemCodes, model.codeWords, model.items.size)
  const seen = model.userSeen
  if (seen) {
    const users = model.users.size
    const sets: Set<number>[] = []
    for (let u = 0; u < users; u++) sets.push(new Set(seen.items.subarray(seen.indptr[u], seen.indptr[u + 1])))
    const unlisted: ExcludeSet[] = sets.map((s) => ({ has: (row: number) => s.has(row), size: s.size }))
    const userCode = (u: number): Uint32Array => model.userCodes.subarray(u * model.codeWords, (u + 1) * model.codeWords)
    const radius = createLinearHammingScan(model.itemCodes, model.codeWords, model.items.size, { mode: 'radius' })
    const twoPass = createLinearHammingScan(model.itemCodes, model.codeWords, model.items.size, { mode: 'two-pass' })
    const scanAb = ab({
      'radius pass, over-fetch by the exclusion count': (u) => { radius.search(userCode(u), C, unlisted[u]) },
      'radius pass, excluded rows skipped inside the scan': (u) => { radius.search(userCode(u), C, sets[u]) },
      'two passes, excluded rows skipped': (u) => { twoPass.search(userCode(u), C, sets[u]) },
      'auto (the default)': (u) => { scan.search(userCode(u), C, sets[u]) },
    }, users)
    table(`Linear scan, ${values.model} (${model.items.size} items), top-${C} for each of its ${users} users excluding their training items (mean ${(seen.items.length / users).toFixed(0)})`, Object.entries(scanAb).map(([n, v]) => [n, v.toFixed(1)]))
  }
}
