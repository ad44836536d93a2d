import { createMemoryStore } from '../../src/state/memory-store.js'
import { defineServiceSuite } from './service-suite.js'

defineServiceSuite('service on the in-process store', async () => {
  // One store object is the state every "replica" in the process shares.
  const store = createMemoryStore()
  return { open: async () => store, cleanup: () => store.close() }
})
