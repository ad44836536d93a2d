// Shared pieces of the k6 scenarios: configuration from the environment, a Zipf-like user sampler,
// and the request mix. k6 runs plain JavaScript (ES modules), not Node: no npm imports here.
import http from 'k6/http'
import { check } from 'k6'
import { SharedArray } from 'k6/data'
import { Rate, Trend } from 'k6/metrics'

export const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8080').replace(/\/$/, '')
const IDS_FILE = __ENV.IDS_FILE || './ids.json'
// Share of user requests for ids the model has never seen (the hashed cold-start path).
const UNKNOWN_SHARE = Number(__ENV.UNKNOWN_SHARE || 0.1)
const ZIPF_S = Number(__ENV.ZIPF_S || 1.1)
const K = Number(__ENV.K || 10)

const ids = new SharedArray('ids', () => {
  const parsed = JSON.parse(open(IDS_FILE))
  return [parsed]
})[0]
const users = ids.users
const items = ids.items

// Zipf over user rank (the bundle lists users most active first): a cumulative table built once.
const cumulative = (() => {
  const out = new Float64Array(users.length)
  let sum = 0
  for (let r = 0; r < users.length; r++) { sum += 1 / Math.pow(r + 1, ZIPF_S); out[r] = sum }
  for (let r = 0; r < users.length; r++) out[r] /= sum
  return out
})()

function zipfIndex () {
  const u = Math.random()
  let lo = 0
  let hi = cumulative.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cumulative[mid] < u) lo = mid + 1; else hi = mid
  }
  return lo
}

export function pickUser () {
  if (Math.random() < UNKNOWN_SHARE) return `k6-new-${Math.floor(Math.random() * 1e9)}`
  return users[zipfIndex()]
}

export function pickItem () {
  return items[Math.floor(Math.random() * items.length)]
}

function pickMethod () {
  const r = Math.random()
  return r < 0.6 ? 'hybrid' : r < 0.8 ? 'hamming' : 'mips'
}

const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }

// Load shedding answers 503 at once: its answers would pull any latency percentile down, so the
// scenarios judge served answers (everything but 503) and shed answers as two separate metrics.
export const shedAnswers = new Rate('shed_answers')
export const servedDuration = new Trend('served_duration', true)

function ok (res, name) {
  const shed = res.status === 503
  const tags = { name: name.replace(/ /g, '-') }
  shedAnswers.add(shed, tags)
  if (!shed) servedDuration.add(res.timings.duration, tags)
  check(res, { [`${name} 2xx`]: (r) => r.status >= 200 && r.status < 300 })
}

export function userRecommendations () {
  const res = http.get(`${BASE_URL}/v1/users/${encodeURIComponent(pickUser())}/recommendations?k=${K}&method=${pickMethod()}`, { tags: { name: 'user-recommendations' } })
  ok(res, 'user recommendations')
}

export function similarItems () {
  const res = http.get(`${BASE_URL}/v1/items/${encodeURIComponent(pickItem())}/similar?k=${K}`, { tags: { name: 'similar-items' } })
  ok(res, 'similar items')
}

export function sessionRecommendations () {
  const itemIds = Array.from({ length: 1 + Math.floor(Math.random() * 5) }, pickItem)
  const res = http.post(`${BASE_URL}/v1/recommendations`, JSON.stringify({ itemIds, k: K }), { ...JSON_HEADERS, tags: { name: 'session-recommendations' } })
  ok(res, 'session recommendations')
}

export function batchRecommendations () {
  const requests = Array.from({ length: 5 + Math.floor(Math.random() * 16) }, () => ({ userId: pickUser(), k: K, method: pickMethod() }))
  const res = http.post(`${BASE_URL}/v1/recommendations/batch`, JSON.stringify({ requests }), { ...JSON_HEADERS, tags: { name: 'batch-recommendations' } })
  ok(res, 'batch recommendations')
}

export function postEvents () {
  const userId = pickUser()
  const events = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => ({ userId, itemId: pickItem(), type: Math.random() < 0.8 ? 'view' : 'click', timestamp: Date.now() }))
  const res = http.post(`${BASE_URL}/v1/events`, JSON.stringify({ events }), { ...JSON_HEADERS, tags: { name: 'events' } })
  ok(res, 'events')
}

/** One iteration of the production-like mix. */
export function mixedIteration () {
  const r = Math.random()
  if (r < 0.6) userRecommendations()
  else if (r < 0.75) similarItems()
  else if (r < 0.8) sessionRecommendations()
  else if (r < 0.9) batchRecommendations()
  else postEvents()
}

/** Thresholds that fail the run: latency per request kind and the error rate. */
export function thresholds (p95 = Number(__ENV.P95_MS || 25), p99 = Number(__ENV.P99_MS || 50)) {
  return {
    http_req_failed: [`rate<${__ENV.MAX_ERROR_RATE || 0.01}`],
    'http_req_duration{name:user-recommendations}': [`p(95)<${p95}`, `p(99)<${p99}`],
    'http_req_duration{name:similar-items}': [`p(95)<${p95}`, `p(99)<${p99}`],
    'http_req_duration{name:session-recommendations}': [`p(95)<${p95}`, `p(99)<${p99}`],
    'http_req_duration{name:batch-recommendations}': [`p(95)<${p95 * 4}`, `p(99)<${p99 * 4}`],
    'http_req_duration{name:events}': [`p(95)<${p95}`, `p(99)<${p99}`],
    checks: ['rate>0.99'],
  }
}

/** A constant-arrival-rate scenario of the production mix (load and soak differ only in numbers). */
export function constantRateOptions (name, rate, duration) {
  return {
    scenarios: {
      [name]: {
        executor: 'constant-arrival-rate',
        rate,
        timeUnit: '1s',
        duration,
        preAllocatedVUs: Math.max(10, Math.ceil(rate / 20)),
        maxVUs: Math.max(50, rate),
      },
    },
    thresholds: thresholds(),
  }
}
