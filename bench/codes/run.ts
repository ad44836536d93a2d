/**
 * npm run bench:codes -- [--data data/ml-latest-small/ratings.csv] [--bits 64] [--threads 2]
 *   [--runs 3] [--variants '[{"sweeps":0}]'] [--cache .bench-tmp/codes-ials.bin]
 *   [--real ials|pipeline] [--budget 0.1]
 *
 * Recall@10 / NDCG@10 on the trainer's split of: the real-valued model (a throwaway iALS, or the
 * cached vectors of a previous run), sign() of the real factors (the baseline), the learned codes
 * ranked by Hamming distance (ties: lower item row), and the two-stage hybrid (Hamming top-200
 * re-ranked by inner product); then the spread of the metrics over --runs runs with --threads.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { learnCodes, type CodeLearningOptions, type LearnedCodes } from '../../src/trainer/codes/learn-codes.js'
import { packCodes, signCodes, unpackCodes } from '../../src/bundle-format/codes.js'
import { loadSplit } from './data.js'
import { pipelineVectors } from './pipeline-vectors.js'
import { trainIals } from './ials.js'
import { dotScorer, evaluate, hammingScorer, twoStageScorer, type Metrics } from './metrics.js'

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/ml-latest-small/ratings.csv' },
    bits: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    variants: { type: 'string', default: '[{}]' },
    cache: { type: 'string', default: '.bench-tmp/codes-ials.bin' },
    alpha: { type: 'string', default: '5' },
    reg: { type: 'string', default: '3' },
    iterations: { type: 'string', default: '15' },
    verbose: { type: 'boolean', default: false },
    /** ials: the throwaway iALS of this folder; pipeline: src/trainer's hashed MF at --budget. */
    real: { type: 'string', default: 'ials' },
    budget: { type: 'string', default: '0.1' },
  },
})
const bits = Number(args.bits) as 32 | 64 | 128
const dim = 64
const seed = Number(args.seed)
const fromPipeline = args.real === 'pipeline' ? await pipelineVectors(args.data, Number(args.budget), seed) : null
const data = fromPipeline ?? loadSplit(args.data)
console.log(`data: ${data.users} users, ${data.items} items, ${data.train.indptr[data.users]} train, ${data.test.indptr[data.users]} test`)

let userVectors: Float32Array
let itemVectors: Float32Array
const key = `${args.data}|${args.alpha}|${args.reg}|${args.iterations}|${dim}`
const cacheOk = existsSync(args.cache) && existsSync(`${args.cache}.key`) && readFileSync(`${args.cache}.key`, 'utf8') === key
if (fromPipeline !== null) {
  userVectors = fromPipeline.userVectors; itemVectors = fromPipeline.itemVectors
  console.log(`real-valued: src/trainer hashed MF at budget ${args.budget} (pipeline split)`)
} else if (cacheOk) {
  const buf = readFileSync(args.cache)
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4)
  userVectors = all.slice(0, data.users * dim)
  itemVectors = all.slice(data.users * dim)
  console.log(`real-valued: cached iALS vectors from ${args.cache}`)
} else {
  const t = performance.now()
  const m = trainIals(data.train, { dim, alpha: Number(args.alpha), reg: Number(args.reg), iterations: Number(args.iterations), seed })
  userVectors = m.userVectors; itemVectors = m.itemVectors
  console.log(`real-valued: iALS dim ${dim} alpha ${args.alpha} reg ${args.reg} x${args.iterations} in ${Math.round(performance.now() - t)} ms`)
  mkdirSync(dirname(args.cache), { recursive: true })
  const all = new Float32Array(userVectors.length + itemVectors.length)
  all.set(userVectors); all.set(itemVectors, userVectors.length)
  writeFileSync(args.cache, all); writeFileSync(`${args.cache}.key`, key)
}

const fmt = (m: Metrics, ref?: Metrics): string => `recall@10 ${m.recall.toFixed(4)}  ndcg@10 ${m.ndcg.toFixed(4)}${ref === undefined ? '' : `  (${(100 * m.recall / ref.recall).toFixed(1)}% of real recall)`}`
const real = evaluate(data.train, data.test, dotScorer(userVectors, itemVectors, dim))
console.log(`real-valued            ${fmt(real)}`)
const evalCodes = (c: LearnedCodes): { hamming: Metrics, twoStage: Metrics } => ({
  hamming: evaluate(data.train, data.test, hammingScorer(c.userCodes, c.itemCodes, bits)),
  twoStage: evaluate(data.train, data.test, twoStageScorer(c.userCodes, c.itemCodes, bits, userVectors, itemVectors, dim)),
})
if (bits <= dim) {
  const take = (x: Float32Array, rows: number): Float32Array => {
    const out = new Float32Array(rows * bits)
    for (let r = 0; r < rows; r++) out.set(x.subarray(r * dim, r * dim + bits), r * bits)
    return out
  }
  const base = evalCodes({
    userCodes: packCodes(signCodes(take(userVectors, data.users), data.users, bits), data.users, bits),
    itemCodes: packCodes(signCodes(take(itemVectors, data.items), data.items, bits), data.items, bits),
    userCodeProjection: null,
  })
  console.log(`sign() baseline        hamming ${fmt(base.hamming, real)}`)
  console.log(`                       two-stage ${fmt(base.twoStage, real)}`)
}

/** Mean |bit mean| (0 = balanced) and mean |correlation| between bits (0 = decorrelated). */
function bitStats (packed: Uint8Array, rows: number): string {
  const c = unpackCodes(packed, rows, bits)
  const mean = new Float64Array(bits)
  for (let r = 0; r < rows; r++) for (let k = 0; k < bits; k++) mean[k]! += c[r * bits + k]! / rows
  let imbalance = 0; let corr = 0
  for (let k = 0; k < bits; k++) imbalance += Math.abs(mean[k]!) / bits
  for (let k = 0; k < bits; k++) {
    for (let l = k + 1; l < bits; l++) {
      let s = 0
      for (let r = 0; r < rows; r++) s += c[r * bits + k]! * c[r * bits + l]!
      const cov = s / rows - mean[k]! * mean[l]!
      corr += Math.abs(cov / Math.sqrt(Math.max(1e-12, (1 - mean[k]! ** 2) * (1 - mean[l]! ** 2)))) / (bits * (bits - 1) / 2)
    }
  }
  return `|bit mean| ${imbalance.toFixed(3)}, |bit correlation| ${corr.toFixed(3)}`
}

const variants = JSON.parse(args.variants) as Partial<CodeLearningOptions>[]
const log = args.verbose ? (m: string) => console.log(`  ${m}`) : undefined
for (const options of variants) {
  const input = { users: data.users, items: data.items, dimension: dim, bits, userVectors, itemVectors, train: data.train, seed, log, options }
  let t = performance.now()
  const cpu = process.cpuUsage()
  const single = await learnCodes({ ...input, threads: 1 })
  const singleMs = performance.now() - t
  const used = process.cpuUsage(cpu)
  const cpuMs = (used.user + used.system) / 1000
  const m1 = evalCodes(single)
  console.log(`codes ${JSON.stringify(options)} threads=1 ${Math.round(singleMs)} ms wall, ${Math.round(cpuMs)} ms CPU`)
  console.log(`  hamming   ${fmt(m1.hamming, real)}`)
  console.log(`  two-stage ${fmt(m1.twoStage, real)}`)
  console.log(`  users: ${bitStats(single.userCodes, data.users)}; items: ${bitStats(single.itemCodes, data.items)}`)
  const runs = Number(args.runs)
  const threads = Number(args.threads)
  if (runs <= 0) continue
  const recalls: number[] = []; const twoStage: number[] = []; const times: number[] = []
  let identical = true
  for (let r = 0; r < runs; r++) {
    t = performance.now()
    const c = await learnCodes({ ...input, threads })
    times.push(performance.now() - t)
    const m = evalCodes(c)
    recalls.push(m.hamming.recall); twoStage.push(m.twoStage.recall)
    identical &&= Buffer.compare(c.userCodes, single.userCodes) === 0 && Buffer.compare(c.itemCodes, single.itemCodes) === 0
  }
  const spread = (x: number[]): string => `${Math.min(...x).toFixed(4)}..${Math.max(...x).toFixed(4)} (spread ${(Math.max(...x) - Math.min(...x)).toFixed(4)})`
  console.log(`  threads=${threads} x${runs}: ${times.map((x) => Math.round(x)).join('/')} ms; hamming recall ${spread(recalls)}; two-stage ${spread(twoStage)}; codes identical to threads=1: ${identical}`)
}
