// Steady load: a constant arrival rate of the production mix.
//   k6 run -e BASE_URL=... -e RATE=500 -e DURATION=5m loadtest/k6/load.js
import { mixedIteration, thresholds } from './lib.js'

const RATE = Number(__ENV.RATE || 200)

export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.DURATION || '5m',
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 20)),
      maxVUs: Math.max(50, RATE),
    },
  },
  thresholds: thresholds(),
}

export default mixedIteration
