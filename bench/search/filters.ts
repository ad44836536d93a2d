/**
 * Filtered retrieval against unfiltered, side by side in one process: for each catalog, each
 * method and each query, the unfiltered search and the same search under a filter that passes
 * about 10% of the catalog, alternately, so drift in the shared machine's load hits both alike.
 * Reports per method p50 / p99 latency per query, their ratio, the share of answers holding k
 * items, and recall@k against the exact answer among the eligible rows (exact inner products for
 * hybrid and mips; hamming is exact by construction and is checked against the naive ranking).
 *
 * Catalogs: models/default with a filter on the model's own tag closest to 10% of its items (a
 * real MovieLens genre), each user's training items excluded as the service does; and the
 * synthetic 1M-item bundle of bench:load (run it first) with 10% of its rows drawn at random
 * (seeded; uncorrelated with the vectors, the harder case for a graph). Engines are built with the
 * service's settings. A second table times the whole recommender (no result cache) for a user
 * request with and without the same filter given as a tag: the catalog view's filter lookup, the
 * search, the ranking and the answer's shaping (on the 1M catalog the tag is set on its 10% of
 * items by catalog rules, as a product team would).
 *
 *   npm run bench:filters -- [--queries 1000] [--rounds 2] [--model models/default] [--large .bench-tmp/load-1000000-100000/bundle]
 */
import { existsSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import type { Model } from '../../src/model-loader/model.js'
import { exactMipsRows } from '../../src/search/mips/brute-force.js'
import { RowFilter } from '../../src/search/row-filter.js'
import { hammingDistance, TopKHeap } from '../../src/search/top-k.js'
import { createRecommender } from '../../src/recommend/recommender.js'
import { createSearchEngines, searchCatalogOf, type SearchEngines } from '../../src/search/engines.js'
import { RuleBook } from '../../src/state/item-rules.js'
import type { SearchMethod, TopK } from '../../src/search/types.js'
import { createRng } from '../lib/synthetic-catalog.js'

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
    k: { type: 'string', default: '10' },
    share: { type: 'string', default: '0.1' },
    model: { type: 'string', default: 'models/default' },
    large: { type: 'string', default: '.bench-tmp/load-1000000-100000/bundle' },
  },
})
const Q = Number(values.queries)
const ROUNDS = Number(values.rounds)
const K = Number(values.k)
const SHARE = Number(values.share)
const METHODS: readonly SearchMethod[] = ['hybrid', 'hamming', 'mips']

interface Query { readonly code: Uint32Array, readonly vector: Float32Array, readonly exclude: Set<number> | undefined }

/** The model's users as queries, spread over the user rows: learned codes and vectors, training items excluded. */
function userQueries (model: Model, count: number): Query[] {
  const users = model.users.size
  const out: Query[] = []
  for (let q = 0; q < Math.min(count, users); q++) {
    const u = Math.floor(q * users / Math.min(count, users))
    const vector = new Float32Array(model.dimension)
    model.userTable.resolveInto(model.users.idAt(u), vector)
    const seen = model.userSeen
    const exclude = seen === null ? undefined : new Set(seen.items.subarray(seen.indptr[u], seen.indptr[u + 1]))
    out.push({ code: model.userCodes.slice(u * model.codeWords, (u + 1) * model.codeWords), vector, exclude })
  }
  return out
}

/** Rows carrying the model's tag whose share of the catalog is closest to `share`. */
function tagFilter (model: Model, share: number): Picked | null {
  const byTag = new Map<string, number[]>()
  for (let row = 0; row < model.items.size; row++) {
    for (const tag of model.itemMeta.tags(row) ?? []) {
      let rows = byTag.get(tag)
      if (rows === undefined) byTag.set(tag, rows = [])
      rows.push(row)
    }
  }
  let best: [string, number[]] | null = null
  for (const entry of byTag) if (best === null || Math.abs(entry[1].length / model.items.size - share) < Math.abs(best[1].length / model.items.size - share)) best = entry
  if (best === null) return null
  return { filter: RowFilter.fromBits(RowFilter.fromRows(best[1], model.items.size).bits, model.items.size), label: `tag "${best[0]}"`, tag: best[0], rules: new RuleBook() }
}

/** A seeded random `share` of the rows, tagged `sampled` by catalog rules for the recommender's table. */
function randomFilter (model: Model, share: number, seed: number): Picked {
  const itemCount = model.items.size
  const rng = createRng(seed)
  const bits = new Uint8Array(RowFilter.bitmapBytes(itemCount))
  const rules = new RuleBook()
  for (let r = 0; r < itemCount; r++) {
    if (rng.float() >= share) continue
    bits[r >> 3] |= 1 << (r & 7)
    rules.apply({ itemId: model.items.idAt(r), rule: { tags: ['sampled'], updatedAt: 'bench' } })
  }
  return { filter: RowFilter.fromBits(bits, itemCount), label: `random ${(share * 100).toFixed(0)}% of rows`, tag: 'sampled', rules }
}

function search (engines: SearchEngines, method: SearchMethod, q: Query, filter: RowFilter | undefined): TopK {
  const opts = { k: K, exclude: q.exclude, filter }
  return method === 'hamming' ? engines.hamming(q.code, opts) : method === 'mips' ? engines.mips(q.vector, opts) : engines.hybrid(q.code, q.vector, opts)
}

/** The exact top-k among the eligible rows: inner product for hybrid and mips, (distance, row) for hamming. */
function oracle (model: Model, method: SearchMethod, q: Query, filter: RowFilter): number[] {
  const rows = filter.rows
  if (method === 'hamming') {
    const ranked: Array<[number, number]> = []
    for (const row of rows) if (q.exclude?.has(row) !== true) ranked.push([hammingDistance(model.itemCodes, row, model.codeWords, q.code), row])
    ranked.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    return ranked.slice(0, K).map((x) => x[1])
  }
  const items = { itemVectors: model.itemVectors, itemBias: model.itemBias, dimension: model.dimension, itemCount: model.items.size }
  return Array.from(exactMipsRows(items, q.vector, rows, rows.length, K, q.exclude, new TopKHeap(K), new Float64Array(rows.length)).rows)
}

const quantile = (sorted: Float64Array, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]

/** p50 and p99 (µs) of one method's unfiltered and filtered times, and the p50 ratio, as table cells. */
function latencyCells (times: Map<string, number[]>, method: SearchMethod): { p50: string, f50: string, ratio: string, p99: string, f99: string } {
  const plain = Float64Array.from(times.get(`${method}:plain`)!).sort()
  const filtered = Float64Array.from(times.get(`${method}:filtered`)!).sort()
  const us = (ms: number): string => (ms * 1000).toFixed(1)
  return { p50: us(quantile(plain, 0.5)), f50: us(quantile(filtered, 0.5)), ratio: `${(quantile(filtered, 0.5) / quantile(plain, 0.5)).toFixed(2)}x`, p99: us(quantile(plain, 0.99)), f99: us(quantile(filtered, 0.99)) }
}

interface Picked { readonly filter: RowFilter, readonly label: string, readonly tag: string, readonly rules: RuleBook }

async function section (path: string, pick: (model: Model) => Picked | null): Promise<void> {
  if (!existsSync(`${path}/manifest.json`)) { console.error(`skipped ${path}: no bundle (models/default: npm start trains it; the 1M bundle: npm run bench:load)`); return }
  const model = await loadModel(path)
  const engines = createSearchEngines(searchCatalogOf(model), { candidates: 200, hybridCodesPerCandidate: 8, hybridPrefilter: true })
  await engines.whenReady
  const picked = pick(model)
  if (picked === null) { console.error(`skipped ${path}: the model has no tags`); return }
  const { filter, label, tag, rules } = picked
  const queries = userQueries(model, Q)
  // Warm both paths (JIT, caches), then time.
  for (const method of METHODS) for (let q = 0; q < Math.min(50, queries.length); q++) { search(engines, method, queries[q], undefined); search(engines, method, queries[q], filter) }
  const times = new Map(METHODS.flatMap((m) => [[`${m}:plain`, [] as number[]], [`${m}:filtered`, [] as number[]]]))
  const full = new Map(METHODS.map((m) => [m, 0]))
  const recall = new Map(METHODS.map((m) => [m, 0]))
  const load = loadavg()[0]
  for (let round = 0; round < ROUNDS; round++) {
    for (let q = 0; q < queries.length; q++) {
      for (const method of METHODS) {
        let t = performance.now()
        search(engines, method, queries[q], undefined)
        times.get(`${method}:plain`)!.push(performance.now() - t)
        t = performance.now()
        const got = search(engines, method, queries[q], filter)
        times.get(`${method}:filtered`)!.push(performance.now() - t)
        if (round > 0) continue
        const want = oracle(model, method, queries[q], filter)
        if (got.rows.length === Math.min(K, want.length)) full.set(method, full.get(method)! + 1)
        const wanted = new Set(want)
        let hit = 0
        for (const row of got.rows) if (!filter.has(row)) throw new Error(`${method} returned ineligible row ${row}`); else if (wanted.has(row)) hit++
        recall.set(method, recall.get(method)! + hit / Math.max(1, want.length))
      }
    }
  }
  console.log(`\n${path}: ${model.items.size} items, filter ${label} (${filter.count} rows, ${(100 * filter.count / model.items.size).toFixed(1)}%), k=${K}, ${queries.length} queries x ${ROUNDS} rounds, load average ${load.toFixed(2)} -> ${loadavg()[0].toFixed(2)}, search: ${JSON.stringify({ hamming: engines.info.hamming.structure, mips: engines.info.mips.structure })}\n`)
  console.log('| method | unfiltered p50 µs | filtered p50 µs | ratio | unfiltered p99 µs | filtered p99 µs | full answers | filtered recall@10 |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const method of METHODS) {
    const c = latencyCells(times, method)
    console.log(`| ${method} | ${c.p50} | ${c.f50} | ${c.ratio} | ${c.p99} | ${c.f99} | ${(100 * full.get(method)! / queries.length).toFixed(1)}% | ${(recall.get(method)! / queries.length).toFixed(3)} |`)
  }

  // The whole recommender, the filter given as a tag (the catalog view's cached filter).
  const rec = createRecommender(model, engines, { resultCacheBytes: 0, rules })
  const users = Math.min(queries.length, model.users.size)
  const userId = (q: number): string => model.users.idAt(Math.floor(q * model.users.size / users))
  const context = { history: [] as string[], excludeSeen: true }
  const recTimes = new Map(METHODS.flatMap((m) => [[`${m}:plain`, [] as number[]], [`${m}:filtered`, [] as number[]]]))
  const recFull = new Map(METHODS.map((m) => [m, 0]))
  for (const method of METHODS) for (let q = 0; q < Math.min(50, users); q++) { rec.forUser(userId(q), { k: K, method }, context); rec.forUser(userId(q), { k: K, method, tags: [tag] }, context) }
  for (let round = 0; round < ROUNDS; round++) {
    for (let q = 0; q < users; q++) {
      for (const method of METHODS) {
        let t = performance.now()
        rec.forUser(userId(q), { k: K, method }, context)
        recTimes.get(`${method}:plain`)!.push(performance.now() - t)
        t = performance.now()
        const answer = rec.forUser(userId(q), { k: K, method, tags: [tag] }, context)
        recTimes.get(`${method}:filtered`)!.push(performance.now() - t)
        if (round === 0 && answer.items.length === K) recFull.set(method, recFull.get(method)! + 1)
      }
    }
  }
  console.log(`\nthe recommender, ${users} users x ${ROUNDS} rounds, \`tags=${tag}\`, no result cache:\n`)
  console.log('| method | unfiltered p50 µs | filtered p50 µs | ratio | full answers |')
  console.log('|---|---:|---:|---:|---:|')
  for (const method of METHODS) {
    const c = latencyCells(recTimes, method)
    console.log(`| ${method} | ${c.p50} | ${c.f50} | ${c.ratio} | ${(100 * recFull.get(method)! / users).toFixed(1)}% |`)
  }
}

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, ${new Date().toISOString()}`)
await section(values.model, (model) => tagFilter(model, SHARE))
await section(values.large, (model) => randomFilter(model, SHARE, 11))
