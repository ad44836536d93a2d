// Spike (default duration 3m35s): the sustainable RATE for a minute, then 4x RATE (a 10 s ramp,
// a minute at 4x, a 10 s ramp down), RECOVERY_S seconds (default 15) to settle, then RATE for a
// minute more. hashrec should shed the excess with 503 + Retry-After and be back to normal within
// RECOVERY_S. Judged separately:
//   - during the spike, the answers it served (not the fast 503s) stay under SPIKE_P99_MS, and it
//     sheds no more than the excess over RATE;
//   - after RECOVERY_S, latency is back under P99_MS and nothing is shed any more;
//   - no error other than shedding, at any time.
//   k6 run -e BASE_URL=... -e RATE=500 [-e RECOVERY_S=15] loadtest/k6/spike.js
import http from 'k6/http'
import { mixedIteration } from './lib.js'

const RATE = Number(__ENV.RATE || 200)
const FACTOR = 4
const RECOVERY_S = Number(__ENV.RECOVERY_S || 15)
const P99_MS = Number(__ENV.P99_MS || 50)
const SPIKE_P99_MS = Number(__ENV.SPIKE_P99_MS || 250)
// Load shedding answers 503 on purpose: do not count it as a failed request.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }, 503))

const vus = (rate) => ({ preAllocatedVUs: Math.max(20, Math.ceil(rate / 10)), maxVUs: Math.max(200, rate * 2) })
const steady = (startTime, duration) => ({ executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration, startTime, ...vus(RATE) })

export const options = {
  scenarios: {
    before: steady('0s', '1m'),
    spike: {
      executor: 'ramping-arrival-rate',
      startTime: '1m',
      startRate: RATE,
      timeUnit: '1s',
      ...vus(RATE * FACTOR),
      stages: [
        { target: RATE * FACTOR, duration: '10s' },
        { target: RATE * FACTOR, duration: '1m' },
        { target: RATE, duration: '10s' },
      ],
    },
    settle: steady('140s', `${RECOVERY_S}s`),
    recovery: steady(`${140 + RECOVERY_S}s`, '1m'),
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'served_duration{scenario:before}': [`p(99)<${P99_MS}`],
    'shed_answers{scenario:before}': ['rate<0.01'],
    'served_duration{scenario:spike}': [`p(99)<${SPIKE_P99_MS}`],
    // At FACTOR x RATE a service that can serve RATE sheds at most 1 - 1/FACTOR of the requests.
    'shed_answers{scenario:spike}': [`rate<${1 - 1 / FACTOR}`],
    'served_duration{scenario:recovery}': [`p(99)<${P99_MS}`],
    'shed_answers{scenario:recovery}': ['rate<0.01'],
  },
}

export default mixedIteration
