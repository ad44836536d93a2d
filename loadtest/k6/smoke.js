// Smoke (default duration 30s): one user, every request kind in turn; fails on any error. Run it
// before the others.
//   k6 run -e BASE_URL=http://localhost:8080 loadtest/k6/smoke.js
import { sleep } from 'k6'
import { batchRecommendations, postEvents, sessionRecommendations, similarItems, thresholds, userRecommendations } from './lib.js'

export const options = {
  vus: 1,
  duration: __ENV.DURATION || '30s',
  thresholds: { ...thresholds(), http_req_failed: ['rate==0'] },
}

export default function () {
  userRecommendations()
  similarItems()
  sessionRecommendations()
  batchRecommendations()
  postEvents()
  sleep(0.2)
}
