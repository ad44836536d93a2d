// Short soak: a moderate rate for half an hour, to catch leaks and latency creep.
//   k6 run -e BASE_URL=... -e RATE=100 -e DURATION=30m loadtest/k6/soak.js
import { mixedIteration, thresholds } from './lib.js'

const RATE = Number(__ENV.RATE || 100)

export const options = {
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.DURATION || '30m',
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 20)),
      maxVUs: Math.max(50, RATE),
    },
  },
  thresholds: thresholds(),
}

export default mixedIteration
