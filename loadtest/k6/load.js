// Steady load (default duration 5m, DURATION): a constant arrival rate (RATE, default 200/s) of the
// production mix.
//   k6 run -e BASE_URL=... -e RATE=500 -e DURATION=5m loadtest/k6/load.js
import { constantRateOptions, mixedIteration } from './lib.js'

export const options = constantRateOptions('steady', Number(__ENV.RATE || 200), __ENV.DURATION || '5m')

export default mixedIteration
