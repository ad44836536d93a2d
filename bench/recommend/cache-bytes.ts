/**
 * What one kept answer of the result cache costs on the heap, against what the cache's budget
 * counts for it (src/recommend/result-cache.ts), in the service's answer form (src/answer-json.ts).
 * Loads a bundle, serves N distinct users once through a recommender without a cache (so the id
 * and title strings every answer shares are already made), then through one with a budget large
 * enough to keep them all, and compares the heap after a full GC before and after with the cache's
 * own estimate.
 *
 *   npm run bench:cache-bytes -- [--bundle .bench-tmp/load-1000000-100000/bundle] [--users 20000] [--k 10] [--method hybrid]
 */
import { parseArgs } from 'node:util'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { createModelEngines } from '../../src/search/engines.js'
import { createRecommender } from '../../src/recommend/recommender.js'
import { ANSWER_JSON, type AnswerJson } from '../../src/answer-json.js'
import type { SearchMethod } from '../../src/search/types.js'

const { values: args } = parseArgs({
  options: {
    bundle: { type: 'string', default: '.bench-tmp/load-1000000-100000/bundle' },
    users: { type: 'string', default: '20000' },
    k: { type: 'string', default: '10' },
    method: { type: 'string', default: 'hybrid' },
  },
})

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:cache-bytes does)')

const model = await loadModel(args.bundle)
const engines = createModelEngines(model)
await engines.whenReady
const n = Math.min(Number(args.users), model.users.size)
const opts = { k: Number(args.k), method: args.method as SearchMethod }
const ids = Array.from({ length: n }, (_, u) => model.users.idAt(u))

const reference = createRecommender(model, engines, { resultCacheBytes: 0, foldInCacheBytes: 0, form: ANSWER_JSON })
for (const id of ids) reference.forUser(id, opts)
const cached = createRecommender(model, engines, { resultCacheBytes: 2 ** 34, foldInCacheBytes: 0, form: ANSWER_JSON })
// Keys and answers must outlive the measurement: the recommender holds them, this array holds the recommender.
const sink: AnswerJson[] = []
const heap = (): number => { gc(); gc(); return process.memoryUsage().heapUsed }
const before = heap()
for (const id of ids) cached.forUser(id, opts)
const after = heap()
sink.push(cached.forUser(ids[0], opts))
const s = cached.stats
console.log(`bundle ${args.bundle}: ${model.items.size} items, ${n} users, ${args.method} k=${opts.k}, ${s.resultCacheEntries} answers kept`)
console.log(`heap per kept answer: ${((after - before) / s.resultCacheEntries).toFixed(0)} bytes measured, ${(s.resultCacheBytes / s.resultCacheEntries).toFixed(0)} bytes counted against the budget`)
console.log(`answers a 32 MiB budget keeps: ${Math.floor(32 * 2 ** 20 / (s.resultCacheBytes / s.resultCacheEntries))}`)
