/**
 * Reads of trending between writes, the in-process store: what every request of a user without
 * signal pays (the fallback asks for max(100, 2k) items). Events over a Zipf-like catalog, then
 * repeated reads, and reads interleaved with one-event writes.
 *
 *   node --import tsx bench/realtime/trending.ts [--events 50000] [--items 10000] [--limit 100] [--reads 20000]
 */
import { parseArgs } from 'node:util'
import { createMemoryStore } from '../../src/state/memory-store.js'
import { createRng } from '../lib/synthetic-catalog.js'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    items: { type: 'string', default: '10000' },
    limit: { type: 'string', default: '100' },
    reads: { type: 'string', default: '20000' },
  },
})
const ITEMS = Number(args.items)
const LIMIT = Number(args.limit)
const READS = Number(args.reads)

const rand = createRng(7).float
const store = createMemoryStore({})
const t0 = Date.now()
await store.recordEvents(Array.from({ length: Number(args.events) }, (_, i) => ({ userId: `u${i % 5000}`, itemId: `i${Math.floor(rand() ** 2 * ITEMS)}`, type: 'click' as const, timestamp: t0 - i })))

function perRead (writeEvery: number): number {
  let sink = 0
  const start = performance.now()
  for (let i = 0; i < READS; i++) {
    if (writeEvery > 0 && i % writeEvery === 0) store.applyEvents([{ userId: 'w', itemId: `i${Math.floor(rand() * ITEMS)}`, type: 'view', timestamp: Date.now() }], Date.now())
    sink += store.now.trending(LIMIT).length
  }
  if (sink === 0) throw new Error('no trending items')
  return (performance.now() - start) * 1000 / READS
}
perRead(0) // warm-up
console.log(`${args.events} events over ${ITEMS} items, trending(${LIMIT}), ${READS} reads, Node ${process.version}`)
console.log(`reads with no write between them: ${perRead(0).toFixed(2)} µs each`)
for (const every of [100, 10, 1]) console.log(`a one-event write every ${every} read(s): ${perRead(every).toFixed(2)} µs per read`)
