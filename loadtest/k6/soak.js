// Short soak (default duration 30m, DURATION): a moderate rate (RATE, default 100/s) for half an
// hour, to catch leaks and latency creep.
//   k6 run -e BASE_URL=... -e RATE=100 -e DURATION=30m loadtest/k6/soak.js
import { constantRateOptions, mixedIteration } from './lib.js'

export const options = constantRateOptions('soak', Number(__ENV.RATE || 100), __ENV.DURATION || '30m')

export default mixedIteration
