// Spike: the sustainable RATE, then 4x for a minute, then back. hashrec should shed the excess with
// 503 + Retry-After (counted, not failed: see expected_response below) and recover within seconds.
//   k6 run -e BASE_URL=... -e RATE=500 loadtest/k6/spike.js
import http from 'k6/http'
import { mixedIteration } from './lib.js'

const RATE = Number(__ENV.RATE || 200)
// Load shedding answers 503 on purpose: do not count it as a failed request.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }, 503))

export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: RATE,
      timeUnit: '1s',
      preAllocatedVUs: Math.max(20, Math.ceil(RATE / 10)),
      maxVUs: Math.max(200, RATE * 4),
      stages: [
        { target: RATE, duration: '1m' },
        { target: RATE * 4, duration: '10s' },
        { target: RATE * 4, duration: '1m' },
        { target: RATE, duration: '10s' },
        { target: RATE, duration: '1m' },
      ],
    },
  },
  thresholds: {
    // No timeouts or 5xx other than shedding, and p99 stays bounded even at 4x.
    http_req_failed: ['rate<0.01'],
    http_req_duration: [`p(99)<${Number(__ENV.SPIKE_P99_MS || 250)}`],
  },
}

export default mixedIteration
