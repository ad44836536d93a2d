/**
 * npm run bench:search -- [--items 1000000] [--queries 1000] [--oracle 300] [--model models/default]
 *
 * Every engine and peer in one run over the same queries: median and p99 latency, queries/s on
 * one core (1000 / mean ms: every search here is single-threaded), recall@10 against the exact
 * oracle, memory and build or load time. Synthetic data is a seeded Gaussian mixture with codes
 * derived from it (bench/lib/synthetic-catalog.ts), plus uniform random codes for the Hamming
 * worst case; the trained model is used when models/default exists.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import usearch from 'usearch'
import { generateSyntheticCatalog } from '../lib/synthetic-catalog.js'
import { createSearchEngines, type SearchCatalog, type SearchEngines } from '../../src/search/engines.js'
import { createLinearHammingScan } from '../../src/search/hamming/linear-scan.js'
import { exactMipsTopK } from '../../src/search/mips/brute-force.js'
import { hammingDistance, popcount32, TopKHeap } from '../../src/search/top-k.js'
import type { HnswHandle } from '../../src/model-loader/model.js'
import { BENCH_TMP, getOrBuildHnsw } from './hnsw-cache.js'
import { BENCH_HNSW, CATALOG_OPTIONS, DR_OPTIONS, drStructureParams, syntheticDataKey } from './config.js'
import { getOrTrainStructure } from './deep-retrieval-cache.js'

const { values } = parseArgs({
  options: {
    ...CATALOG_OPTIONS,
    queries: { type: 'string', default: '1000' },
    oracle: { type: 'string', default: '300' },
    k: { type: 'string', default: '10' },
    candidates: { type: 'string', default: '200' },
    model: { type: 'string', default: 'models/default' },
    'no-hnsw': { type: 'boolean', default: false },
    'no-usearch': { type: 'boolean', default: false },
    'no-uniform': { type: 'boolean', default: false },
    spaces: { type: 'string', default: 'ip,l2-mips' },
    'usearch-only': { type: 'boolean', default: false },
    /** Skip a usearch peer whose index is not cached yet instead of building it inline. */
    'usearch-cache-only': { type: 'boolean', default: false },
    ...DR_OPTIONS,
  },
})

const K = Number(values.k)
const QUERIES = Number(values.queries)
const ORACLE = Math.min(QUERIES, Number(values.oracle))
const C = Number(values.candidates)
const WARMUP = 30

interface Row {
  readonly data: string
  readonly engine: string
  readonly medianMs: number
  readonly p99Ms: number
  readonly qps: number
  readonly recall: number | null
  readonly memoryMB: number | null
  readonly buildS: number | null
  readonly note?: string
}
const rows: Row[] = []
const log = (line: string): void => { console.error(line) }
const gc = (globalThis as { gc?: () => void }).gc

function rssMB (): number {
  gc?.()
  return process.memoryUsage().rss / 1048576
}

/** Runs `search` over queries [0, count) after a warm-up, returning per-query results and latencies. */
function timeQueries<T> (count: number, search: (q: number) => T): { results: T[], times: Float64Array } {
  for (let q = 0; q < Math.min(WARMUP, count); q++) search(q)
  const results: T[] = []
  const times = new Float64Array(count)
  for (let q = 0; q < count; q++) {
    const t = performance.now()
    results.push(search(q))
    times[q] = performance.now() - t
  }
  return { results, times }
}

function record (data: string, engine: string, times: Float64Array, recall: number | null, memoryMB: number | null, buildS: number | null, note?: string): void {
  const sorted = Float64Array.from(times).sort()
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  const row = { data, engine, medianMs: sorted[sorted.length >> 1], p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))], qps: 1000 / mean, recall, memoryMB, buildS, note }
  rows.push(row)
  log(`  ${engine}: median ${row.medianMs.toFixed(3)} ms, p99 ${row.p99Ms.toFixed(3)} ms, ${row.qps.toFixed(0)} q/s, recall ${recall === null ? '-' : recall.toFixed(3)}${note ? ` (${note})` : ''}`)
}

/** Recall@K for Hamming with ties: an item at the K-th distance counts as a hit while the oracle has that many at it. */
function hammingRecall (codes: Uint32Array, codeWords: number, queries: Uint32Array, oracle: Int32Array[], found: ArrayLike<number>[]): number {
  let hits = 0
  let total = 0
  for (let q = 0; q < oracle.length; q++) {
    const query = queries.subarray(q * codeWords, (q + 1) * codeWords)
    const exact = Array.from(oracle[q], (r) => hammingDistance(codes, r, codeWords, query))
    const kth = exact[exact.length - 1]
    let atKth = exact.filter((d) => d === kth).length
    for (const r of Array.from(found[q]).slice(0, K)) {
      const d = hammingDistance(codes, r, codeWords, query)
      if (d < kth) hits++
      else if (d === kth && atKth > 0) { hits++; atKth-- }
    }
    total += exact.length
  }
  return hits / total
}

function setRecall (oracle: Int32Array[], found: ArrayLike<number>[]): number {
  let hits = 0
  let total = 0
  for (let q = 0; q < oracle.length; q++) {
    const truth = new Set(oracle[q])
    for (const r of Array.from(found[q]).slice(0, K)) if (truth.has(r)) hits++
    total += oracle[q].length
  }
  return hits / total
}

/** The peer a first attempt would write: distance per item, sorted insertion into a k-array. */
function naiveJsHammingTopK (codes: Uint32Array, codeWords: number, count: number, query: Uint32Array, k: number): number[] {
  const best: number[] = []
  const bestD: number[] = []
  for (let i = 0; i < count; i++) {
    let d = 0
    for (let w = 0; w < codeWords; w++) d += popcount32(codes[i * codeWords + w] ^ query[w])
    if (best.length === k && d >= bestD[k - 1]) continue
    let at = best.length
    while (at > 0 && bestD[at - 1] > d) at--
    best.splice(at, 0, i)
    bestD.splice(at, 0, d)
    if (best.length > k) { best.pop(); bestD.pop() }
  }
  return best
}

type UsearchIndex = InstanceType<typeof usearch.Index>

function usearchAvailable (cacheKey: string | null, kind: 'ip' | 'b1'): boolean {
  if (!values['usearch-cache-only'] || cacheKey === null || existsSync(join(BENCH_TMP, `usearch-${cacheKey}-${kind}.usearch`))) return true
  log(`  usearch ${kind}: not cached yet, skipped (--usearch-cache-only)`)
  return false
}

/** usearch builds cached like the hnswlib ones: they are minutes at 1M on this shared 2-core machine. */
function cachedUsearch (file: string | null, create: () => UsearchIndex, fill: (index: UsearchIndex) => void): { index: UsearchIndex, source: string } {
  const index = create()
  if (file !== null && existsSync(file)) { index.load(file); return { index, source: 'read from cache' } }
  fill(index)
  if (file !== null) { mkdirSync(BENCH_TMP, { recursive: true }); index.save(file) }
  return { index, source: 'built with 2 threads' }
}

function usearchHammingIndex (codes: Uint32Array, codeBits: number, count: number, file: string | null): { search: (query: Uint32Array) => number[], buildS: number, memoryMB: number, source: string } {
  const { Index, MetricKind, ScalarKind } = usearch
  const before = rssMB()
  const t0 = performance.now()
  const { index, source } = cachedUsearch(file, () => new Index({ dimensions: codeBits, metric: MetricKind.Hamming, quantization: ScalarKind.B1, connectivity: 0, expansion_add: 0, expansion_search: 0, multi: false }), (index) => {
  const codeWords = codeBits / 32
  const unpack = (src: Uint32Array, n: number): Int8Array => {
    const out = new Int8Array(n * codeBits)
    for (let i = 0; i < n; i++) for (let b = 0; b < codeBits; b++) out[i * codeBits + b] = (src[i * codeWords + (b >>> 5)] >>> (b & 31)) & 1
    return out
  }
  const chunk = 100_000
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start)
    index.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(start + i)), unpack(codes.subarray(start * codeWords), n), 0)
  }
  })
  const buildS = (performance.now() - t0) / 1000
  const memoryMB = rssMB() - before
  const scratch = new Int8Array(codeBits)
  return {
    buildS,
    memoryMB,
    source,
    search (query: Uint32Array): number[] {
      for (let b = 0; b < codeBits; b++) scratch[b] = (query[b >>> 5] >>> (b & 31)) & 1
      return Array.from(index.search(scratch, K, 1).keys, Number)
    },
  }
}

function usearchIpIndex (vectors: Float32Array, dimension: number, count: number, file: string | null): { search: (query: Float32Array) => number[], buildS: number, memoryMB: number, source: string } {
  const { Index, MetricKind, ScalarKind } = usearch
  const before = rssMB()
  const t0 = performance.now()
  const { index, source } = cachedUsearch(file, () => new Index({ dimensions: dimension, metric: MetricKind.IP, quantization: ScalarKind.F32, connectivity: 0, expansion_add: 0, expansion_search: 0, multi: false }), (index) => {
    const chunk = 100_000
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start)
      index.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(start + i)), vectors.subarray(start * dimension, (start + n) * dimension), 0)
    }
  })
  const buildS = (performance.now() - t0) / 1000
  const memoryMB = rssMB() - before
  return { buildS, memoryMB, source, search: (query) => Array.from(index.search(query, K, 1).keys, Number) }
}

function hammingSection (label: string, cat: Omit<SearchCatalog, 'hnsw'> & { queryCodes: Uint32Array, queryCount: number }, withPeers: boolean, cacheKey: string | null): void {
  const { itemCodes, codeWords, itemCount } = cat
  const queryCodes = cat.queryCodes
  const qCount = Math.min(QUERIES, cat.queryCount)
  const code = (q: number): Uint32Array => queryCodes.subarray(q * codeWords, (q + 1) * codeWords)
  log(`hamming on ${label}`)
  let before = rssMB()
  let t0 = performance.now()
  const linear = createLinearHammingScan(itemCodes, codeWords, itemCount)
  const linearBuild = (performance.now() - t0) / 1000
  const linearMem = rssMB() - before
  const oracle = timeQueries(Math.min(ORACLE, qCount), (q) => linear.search(code(q), K).rows).results
  const lin = timeQueries(qCount, (q) => linear.search(code(q), K).rows)
  record(label, 'hashrec linear scan (wasm popcnt)', lin.times, hammingRecall(itemCodes, codeWords, queryCodes, oracle, lin.results), linearMem, linearBuild)

  before = rssMB()
  t0 = performance.now()
  const engines = createSearchEngines({ ...catalogFields(cat), hnsw: null })
  const build = (performance.now() - t0) / 1000
  const mem = rssMB() - before
  const mih = timeQueries(qCount, (q) => engines.hamming(code(q), { k: K }).rows)
  const structure = engines.info.hamming.structure === 'multi-index' ? `multi-index (m=${engines.info.hamming.m}) + scan fallback` : 'linear scan (auto: catalog below the table threshold)'
  record(label, `hashrec engine: ${structure}`, mih.times, hammingRecall(itemCodes, codeWords, queryCodes, oracle, mih.results), mem, build,
    `${engines.stats.tableFallbacks}/${engines.stats.tableQueries} table queries fell back`)
  if (!withPeers) return
  const naiveCount = Math.min(qCount, 100)
  const naive = timeQueries(naiveCount, (q) => naiveJsHammingTopK(itemCodes, codeWords, itemCount, code(q), K))
  record(label, 'peer: naive JS linear scan', naive.times, hammingRecall(itemCodes, codeWords, queryCodes, oracle.slice(0, naiveCount), naive.results), 0, 0, `${naiveCount} queries`)
  if (!values['no-usearch'] && usearchAvailable(cacheKey, 'b1')) {
    const us = usearchHammingIndex(itemCodes, codeWords * 32, itemCount, cacheKey === null ? null : join(BENCH_TMP, `usearch-${cacheKey}-b1.usearch`))
    const r = timeQueries(qCount, (q) => us.search(code(q)))
    record(label, 'peer: usearch HNSW b1 hamming (defaults)', r.times, hammingRecall(itemCodes, codeWords, queryCodes, oracle, r.results), us.memoryMB, us.buildS, us.source)
  }
}

function catalogFields (cat: { dimension: number, codeBits: number, codeWords: number, itemCodes: Uint32Array, itemVectors: Float32Array, itemNorms: Float32Array, itemCount: number, itemBias?: Float32Array | null }): Omit<SearchCatalog, 'hnsw'> {
  return { dimension: cat.dimension, codeBits: cat.codeBits as 32 | 64 | 128, codeWords: cat.codeWords, itemCodes: cat.itemCodes, itemVectors: cat.itemVectors, itemNorms: cat.itemNorms, itemBias: cat.itemBias ?? null, itemCount: cat.itemCount }
}

async function mipsSection (label: string, cat: Omit<SearchCatalog, 'hnsw'> & { queryVectors: Float32Array, queryCodes: Uint32Array, queryCount: number, drTrainS?: number }, handles: { space: 'ip' | 'l2-mips', handle: HnswHandle, memoryMB: number }[], withPeers: boolean, cacheKey: string | null): Promise<void> {
  const { dimension, itemCount, itemVectors } = cat
  const qCount = Math.min(QUERIES, cat.queryCount)
  const vec = (q: number): Float32Array => cat.queryVectors.subarray(q * dimension, (q + 1) * dimension)
  const code = (q: number): Uint32Array => cat.queryCodes.subarray(q * cat.codeWords, (q + 1) * cat.codeWords)
  const items = { itemVectors, itemBias: cat.itemBias, dimension, itemCount }
  log(`mips on ${label}: exact oracle for ${Math.min(ORACLE, qCount)} queries`)
  const heap = new TopKHeap(K)
  const exact = timeQueries(Math.min(ORACLE, qCount), (q) => exactMipsTopK(items, vec(q), K, undefined, heap).rows)
  const oracle = exact.results
  record(label, 'hashrec exact MIPS (brute force)', exact.times, 1, 0, 0, `${oracle.length} queries`)
  let engines: SearchEngines | null = null
  for (const { space, handle, memoryMB } of handles) {
    engines = createSearchEngines({ ...cat, hnsw: handle }, { exactMipsMaxItems: 0 })
    for (const ef of [16, 32, 64, 128, 256, 512]) {
      const r = timeQueries(qCount, (q) => engines!.mips(vec(q), { k: K, ef }).rows)
      record(label, `hashrec HNSW ${space} ef=${ef}`, r.times, setRecall(oracle, r.results), memoryMB, handle.buildMs / 1000, handle.buildMs === 0 ? 'index from the bundle' : handle.source === 'file' ? 'read from the bench cache' : 'built')
    }
    if (space === 'ip' && withPeers) {
      handle.index.setEf(10)
      const point = new Array<number>(handle.indexDimension).fill(0)
      const r = timeQueries(qCount, (q) => {
        const v = vec(q)
        for (let j = 0; j < dimension; j++) point[j] = v[j]
        if (cat.itemBias) point[dimension] = 1
        return handle.index.searchKnn(point, K).neighbors
      })
      record(label, 'peer: hnswlib-node defaults (ip, ef=10)', r.times, setRecall(oracle, r.results), memoryMB, handle.buildMs / 1000)
    }
  }
  if (!engines) engines = createSearchEngines({ ...cat, hnsw: null })
  await engines.whenReady
  for (const c of [C, 1000]) {
    const r = timeQueries(qCount, (q) => engines!.hybrid(code(q), vec(q), { k: K, candidates: c }).rows)
    record(label, `hashrec hybrid C=${c}`, r.times, setRecall(oracle, r.results), null, null)
  }
  if (engines.dr !== null) {
    const info = engines.info.deepRetrieval!
    for (const beam of values['dr-beams'].split(',').map(Number)) {
      let scored = 0
      let fallbacks = 0
      const r = timeQueries(qCount, (q) => {
        const top = engines!.dr!(code(q), vec(q), { k: K, beam })
        scored += top.candidatesExamined
        if (top.fallback !== null) fallbacks++
        return top.rows
      })
      record(label, `hashrec Deep Retrieval beam=${beam}`, r.times, setRecall(oracle, r.results), info.memoryBytes / 1048576, cat.drTrainS ?? null,
        `K=${info.width} D=${info.depth} J=${info.pathsPerItem}; ${Math.round(scored / (qCount + Math.min(WARMUP, qCount)))} items scored per query${fallbacks > 0 ? `; ${fallbacks} fell back` : ''}`)
    }
  }
  if (withPeers && !values['no-usearch'] && cat.itemBias === null && usearchAvailable(cacheKey, 'ip')) {
    const us = usearchIpIndex(itemVectors, dimension, itemCount, cacheKey === null ? null : join(BENCH_TMP, `usearch-${cacheKey}-ip.usearch`))
    const r = timeQueries(qCount, (q) => us.search(vec(q)))
    record(label, 'peer: usearch HNSW ip f32 (defaults)', r.times, setRecall(oracle, r.results), us.memoryMB, us.buildS, us.source)
  }
}

async function synthetic (): Promise<void> {
  const params = { items: Number(values.items), dimension: Number(values.dimension), codeBits: Number(values.bits), seed: Number(values.seed) }
  let t0 = performance.now()
  const cat = generateSyntheticCatalog({ ...params, queries: QUERIES })
  log(`synthetic clustered catalog: ${cat.itemCount} x ${cat.dimension}, ${cat.codeBits}-bit codes, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const label = `synthetic ${cat.itemCount / 1000}k clustered`
  hammingSection(label, { ...catalogFields(cat), queryCodes: cat.queryCodes, queryCount: cat.queryCount }, true, syntheticDataKey(params))
  if (!values['no-uniform']) {
    t0 = performance.now()
    const uni = generateSyntheticCatalog({ ...params, queries: QUERIES, uniformCodes: true })
    log(`synthetic uniform-code catalog generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    hammingSection(`synthetic ${cat.itemCount / 1000}k uniform codes`, { ...catalogFields(uni), queryCodes: uni.queryCodes, queryCount: uni.queryCount }, true, `${syntheticDataKey(params)}-uniform`)
  }
  const handles: { space: 'ip' | 'l2-mips', handle: HnswHandle, memoryMB: number }[] = []
  if (!values['no-hnsw']) {
    for (const space of values.spaces.split(',') as ('ip' | 'l2-mips')[]) {
      const before = rssMB()
      const handle = await getOrBuildHnsw({ vectors: cat.itemVectors, count: cat.itemCount, dimension: cat.dimension, bias: null, dataKey: syntheticDataKey(params) }, { ...BENCH_HNSW, M: Number(values.M), space }, log)
      handles.push({ space, handle, memoryMB: rssMB() - before })
    }
  }
  const dr = values['no-dr'] ? null : getOrTrainStructure(drStructureParams(params, values), syntheticDataKey(params), log)
  await mipsSection(label, { ...catalogFields(cat), queryVectors: cat.queryVectors, queryCodes: cat.queryCodes, queryCount: cat.queryCount, deepRetrieval: dr?.structure ?? null, ...(dr ? { drTrainS: dr.trainS } : {}) }, handles, true, syntheticDataKey(params))
}

async function trained (): Promise<void> {
  const dir = values.model
  if (!existsSync(join(dir, 'manifest.json'))) { log(`no trained model at ${dir}: skipping the trained-model part`); return }
  const { loadModel } = await import('../../src/model-loader/load-bundle.js')
  const before = rssMB()
  const t0 = performance.now()
  const model = await loadModel(dir)
  const loadS = (performance.now() - t0) / 1000
  log(`trained model ${model.id}@${model.version}: ${model.items.size} items, ${model.users.size} users, d=${model.dimension}, ${model.codeBits} bits, loaded in ${loadS.toFixed(1)} s (${(rssMB() - before).toFixed(0)} MB)`)
  const qCount = Math.min(QUERIES, model.users.size)
  const queryVectors = new Float32Array(qCount * model.dimension)
  const queryCodes = model.userCodes.subarray(0, qCount * model.codeWords)
  for (let q = 0; q < qCount; q++) model.userTable.resolveInto(model.users.idAt(q), queryVectors, q * model.dimension)
  const cat = { ...catalogFields({ ...model, itemCount: model.items.size }), queryVectors, queryCodes, queryCount: qCount, deepRetrieval: model.deepRetrieval }
  const label = `trained ${model.id} (${model.items.size} items)`
  hammingSection(label, cat, false, null)
  const handles: { space: 'ip' | 'l2-mips', handle: HnswHandle, memoryMB: number }[] = []
  if (model.hnsw) handles.push({ space: model.hnsw.space, handle: model.hnsw, memoryMB: 0 })
  const other = model.hnsw?.space === 'ip' ? 'l2-mips' : 'ip'
  const before2 = rssMB()
  handles.push({ space: other, handle: await getOrBuildHnsw({ vectors: model.itemVectors, count: model.items.size, dimension: model.dimension, bias: model.itemBias, dataKey: `model-${model.id}-${model.version}` }, { ...BENCH_HNSW, M: Number(values.M), space: other }, log), memoryMB: rssMB() - before2 })
  await mipsSection(label, cat, handles, false, null)
}

function table (): string {
  const fmt = (x: number | null, digits: number): string => x === null ? '-' : x.toFixed(digits)
  const lines = [
    '| data | engine | median ms | p99 ms | q/s (1 core) | recall@10 | memory MB | build/load s | note |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ]
  for (const r of rows) lines.push(`| ${r.data} | ${r.engine} | ${fmt(r.medianMs, 3)} | ${fmt(r.p99Ms, 3)} | ${fmt(r.qps, 0)} | ${fmt(r.recall, 3)} | ${fmt(r.memoryMB, 0)} | ${fmt(r.buildS, 1)} | ${r.note ?? ''} |`)
  return lines.join('\n')
}

if (values['usearch-only']) {
  // Fills the usearch cache and stops: lets the peers' builds run ahead of (or beside) a full run.
  const params = { items: Number(values.items), dimension: Number(values.dimension), codeBits: Number(values.bits), seed: Number(values.seed) }
  const cat = generateSyntheticCatalog({ ...params, queries: 0 })
  const key = syntheticDataKey(params)
  log(`usearch ip: ${usearchIpIndex(cat.itemVectors, cat.dimension, cat.itemCount, join(BENCH_TMP, `usearch-${key}-ip.usearch`)).buildS.toFixed(1)} s`)
  log(`usearch b1: ${usearchHammingIndex(cat.itemCodes, cat.codeBits, cat.itemCount, join(BENCH_TMP, `usearch-${key}-b1.usearch`)).buildS.toFixed(1)} s`)
  const uni = generateSyntheticCatalog({ ...params, queries: 0, uniformCodes: true })
  log(`usearch b1 uniform: ${usearchHammingIndex(uni.itemCodes, uni.codeBits, uni.itemCount, join(BENCH_TMP, `usearch-${key}-uniform-b1.usearch`)).buildS.toFixed(1)} s`)
  process.exit(0)
}
await synthetic()
await trained()
const out = table()
console.log(out)
mkdirSync(BENCH_TMP, { recursive: true })
writeFileSync(join(BENCH_TMP, `search-bench-${values.items}.md`), out + '\n')
