/**
 * The hybrid's candidate stage: exact Hamming top-C (multi-index hashing run until the C-th
 * distance is proven) against the bounded mode (stop after W codes compared per candidate and re-rank
 * the best reached), in one process over the same queries. Per setting: median, p99 and mean
 * latency of the whole hybrid query, share of queries the bound cut short, recall@k against exact
 * MIPS (brute force) and overlap@k with the exact hybrid.
 *
 *   npm run bench:hybrid -- [--items 1000000] [--queries 2000] [--oracle 300] [--candidates 200]
 *     [--work 0,1,2,4,8,16,32] [--rounds 3] [--model models/default] [--m 3,4]
 *
 * Data: the seeded clustered synthetic catalog of bench:search, and (when present) the trained
 * model with its learned user and item codes, tables forced on so the same path is measured.
 */
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { createSearchEngines, searchCatalogOf, type SearchCatalog } from '../../src/search/engines.js'
import { exactMipsTopK } from '../../src/search/mips/brute-force.js'
import { TopKHeap } from '../../src/search/top-k.js'
import { generateSyntheticCatalog } from '../lib/synthetic-catalog.js'

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '2000' },
    oracle: { type: 'string', default: '300' },
    candidates: { type: 'string', default: '200' },
    work: { type: 'string', default: '0,1,2,4,8,16,32' },
    k: { type: 'string', default: '10' },
    model: { type: 'string', default: 'models/default' },
    seed: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    /** Substring counts to compare (tables per catalog); empty = the engines' default. */
    m: { type: 'string', default: '' },
  },
})
const K = Number(values.k)
const C = Number(values.candidates)
const WORK = values.work.split(',').map(Number)
const MS: (number | undefined)[] = values.m === '' ? [undefined] : values.m.split(',').map(Number)
const ROUNDS = Number(values.rounds)
const log = (line: string): void => { console.error(line) }

interface Queries { count: number, code: (q: number) => Uint32Array, vector: (q: number) => Float32Array }

function overlap (a: ArrayLike<number>[], b: ArrayLike<number>[], n: number): number {
  let hits = 0
  let total = 0
  for (let q = 0; q < n; q++) {
    const truth = new Set(Array.from(b[q]).slice(0, K))
    for (const r of Array.from(a[q]).slice(0, K)) if (truth.has(r)) hits++
    total += truth.size
  }
  return hits / Math.max(1, total)
}

function quantile (sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

async function section (label: string, catalog: SearchCatalog, queries: Queries): Promise<void> {
  const items = { itemVectors: catalog.itemVectors, itemBias: catalog.itemBias, dimension: catalog.dimension, itemCount: catalog.itemCount }
  const oracleCount = Math.min(queries.count, Number(values.oracle))
  log(`${label}: exact MIPS oracle for ${oracleCount} queries`)
  const heap = new TopKHeap(K)
  const oracle: Int32Array[] = []
  for (let q = 0; q < oracleCount; q++) oracle.push(exactMipsTopK(items, queries.vector(q), K, undefined, heap).rows.slice())
  console.log(`\n${label}: hybrid k=${K}, C=${C}, ${queries.count} queries x ${ROUNDS} interleaved rounds, load average ${loadavg()[0].toFixed(2)}\n`)
  console.log('| candidate stage | median µs | p99 µs | mean µs | bounded share | recall@10 vs exact MIPS | overlap@10 with exact hybrid |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  // Every setting's engines are built first, then timed in interleaved rounds, so drift in the
  // shared machine's load hits all settings alike.
  const settings = MS.flatMap((m) => WORK.map((w) => ({ m, w, engines: createSearchEngines(catalog, { hammingTables: true, hybridCodesPerCandidate: w, m }), times: [] as number[], results: [] as Int32Array[] })))
  await Promise.all(settings.map((s) => s.engines.whenReady))
  for (const s of settings) for (let q = 0; q < Math.min(50, queries.count); q++) s.engines.hybrid(queries.code(q), queries.vector(q), { k: K, candidates: C })
  for (const s of settings) s.engines.stats.hybridQueries = s.engines.stats.hybridBounded = 0
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of settings) {
      for (let q = 0; q < queries.count; q++) {
        const t = performance.now()
        const r = s.engines.hybrid(queries.code(q), queries.vector(q), { k: K, candidates: C })
        s.times.push(performance.now() - t)
        if (round === 0) s.results.push(r.rows)
      }
    }
  }
  const exactHybrid = settings.find((s) => s.w === 0)?.results ?? []
  for (const { w, engines, times: list, results } of settings) {
    const times = Float64Array.from(list)
    const mean = times.reduce((a, b) => a + b, 0) / times.length
    times.sort()
    const name = (w === 0 ? 'exact Hamming top-C' : `bounded, ${w} codes/candidate`) + (MS.length > 1 ? `, m = ${engines.info.hamming.m}` : '')
    const bounded = w === 0 ? '-' : `${(100 * engines.stats.hybridBounded / (ROUNDS * queries.count)).toFixed(1)}%`
    const vsExact = exactHybrid.length > 0 ? overlap(results, exactHybrid, queries.count).toFixed(3) : '-'
    console.log(`| ${name} | ${(quantile(times, 0.5) * 1000).toFixed(1)} | ${(quantile(times, 0.99) * 1000).toFixed(1)} | ${(mean * 1000).toFixed(1)} | ${bounded} | ${overlap(results, oracle, oracleCount).toFixed(3)} | ${vsExact} |`)
  }
}

const items = Number(values.items)
const cat = generateSyntheticCatalog({ items, dimension: 64, codeBits: 64, seed: Number(values.seed), queries: Number(values.queries) })
await section(`synthetic ${items / 1000}k clustered`, { ...cat, codeBits: 64, itemBias: null, hnsw: null }, {
  count: cat.queryCount,
  code: (q) => cat.queryCodes.subarray(q * cat.codeWords, (q + 1) * cat.codeWords),
  vector: (q) => cat.queryVectors.subarray(q * cat.dimension, (q + 1) * cat.dimension),
})

if (existsSync(`${values.model}/manifest.json`)) {
  const model = await loadModel(values.model)
  const users = model.users.size
  const vec = new Float32Array(model.dimension)
  // Every user with a dedicated row and a learned code, in row order.
  await section(`${values.model} (trained, ${model.items.size} items, ${users} users)`, searchCatalogOf(model), {
    count: users,
    code: (u) => model.userCodes.subarray(u * model.codeWords, (u + 1) * model.codeWords),
    vector: (u) => { model.userTable.resolveInto(model.users.idAt(u), vec); return vec },
  })
}
