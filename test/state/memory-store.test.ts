import { createMemoryStore } from '../../src/state/memory-store.js'
import { defineStoreSuite } from './store-suite.js'

defineStoreSuite('memory store', async (options) => {
  const store = createMemoryStore(options)
  return { store, cleanup: () => store.close() }
})
