import { after } from 'node:test'
import { createRedisStore } from '../../src/state/redis-store.js'
import type { StateStore } from '../../src/state/types.js'
import { deletePrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { defineServiceSuite } from './service-suite.js'

const redis = await testRedisUrl()
after(async () => { await redis?.release() })

defineServiceSuite('service on redis', redis && (async () => {
  // Each open() is another connection under the same prefix: what a second replica would have.
  const keyPrefix = uniquePrefix()
  const opened: StateStore[] = []
  return {
    open: async () => {
      const store = await createRedisStore({ url: redis.url, keyPrefix })
      opened.push(store)
      return store
    },
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()))
      await deletePrefix(redis.url, keyPrefix)
    },
  }
}))
