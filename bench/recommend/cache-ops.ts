/**
 * What the result cache costs per operation at its default budget, under the traffic bench:http
 * sends: user ids drawn Zipf(1) over 100k users, a get per request, a keep (the service's answer
 * form, src/answer-json.ts) and a put per miss, with top-10 answers shaped like the 1M bundle's
 * (ids, titles, float scores). Prints µs per get, per put and per keep, the hit share and the
 * entries kept, median of the rounds. No bundle needed: the answers are built here, the cache
 * code is the service's.
 *
 *   npm run bench:cache-ops -- [--requests 600000] [--users 100000] [--budget 33554432] [--rounds 3]
 */
import { parseArgs } from 'node:util'
import { CheckedLru, IDS } from '../../src/recommend/checked-lru.js'
import { DEFAULT_RESULT_CACHE_BYTES } from '../../src/defaults.js'
import { ANSWER_JSON, type AnswerJson } from '../../src/answer-json.js'
import { resultKey } from '../../src/recommend/result-cache.js'
import type { RecommendationResult } from '../../src/recommend/types.js'
import { createRng } from '../../src/trainer/rng.js'
import { zipfCdf, zipfRank } from '../lib/zipf.js'

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '600000' },
    users: { type: 'string', default: '100000' },
    budget: { type: 'string', default: String(DEFAULT_RESULT_CACHE_BYTES) },
    rounds: { type: 'string', default: '3' },
  },
})
const REQUESTS = Number(args.requests)
const USERS = Number(args.users)
const BUDGET = Number(args.budget)

function answerFor (user: number, rand: () => number): RecommendationResult {
  const items = []
  for (let i = 0; i < 10; i++) {
    const row = (user * 7919 + i * 104729) % 1_000_000
    items.push({ id: `item-${row}`, score: 3 * rand(), rank: i + 1, title: `Synthetic item ${row}` })
  }
  return { modelVersion: '1000000', method: 'hybrid', requestedMethod: 'hybrid', source: 'dedicated', candidatesExamined: 600 + (user % 900), items }
}

const cdf = zipfCdf(USERS)

const NO_HISTORY: readonly string[] = Object.freeze([])
const opts = { k: 10, method: 'hybrid' as const }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows: Record<string, number[]> = { get: [], put: [], keep: [], hits: [], entries: [] }
for (let round = 0; round < Number(args.rounds); round++) {
  const rand = createRng(round + 1).next
  const cache = new CheckedLru<AnswerJson, readonly string[]>(BUDGET, IDS)
  let getMs = 0
  let putMs = 0
  let keepMs = 0
  let puts = 0
  for (let i = 0; i < REQUESTS; i++) {
    const user = zipfRank(cdf, rand())
    const key = resultKey('u', `user-${user}`, opts, true)
    const t0 = performance.now()
    const hit = cache.get(key, NO_HISTORY)
    const t1 = performance.now()
    getMs += t1 - t0
    if (hit !== undefined) continue
    const result = answerFor(user, rand)
    const t2 = performance.now()
    const kept = ANSWER_JSON.keep(result)
    const t3 = performance.now()
    cache.put(key, NO_HISTORY, kept.answer, kept.bytes)
    putMs += performance.now() - t3
    keepMs += t3 - t2
    puts++
  }
  rows.get.push(1000 * getMs / REQUESTS)
  rows.put.push(1000 * putMs / puts)
  rows.keep.push(1000 * keepMs / puts)
  rows.hits.push(cache.hits / REQUESTS)
  rows.entries.push(cache.size)
}
console.log(`${REQUESTS} requests, Zipf(1) over ${USERS} users, budget ${BUDGET} bytes, median of ${args.rounds} rounds`)
console.log('| get µs | put µs | keep µs | hits | entries kept |')
console.log('|---:|---:|---:|---:|---:|')
console.log(`| ${median(rows.get).toFixed(2)} | ${median(rows.put).toFixed(2)} | ${median(rows.keep).toFixed(2)} | ${(100 * median(rows.hits)).toFixed(1)}% | ${median(rows.entries)} |`)
