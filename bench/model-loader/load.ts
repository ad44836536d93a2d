/**
 * Bundle load benchmark. Writes a synthetic bundle once (cached under
 * .bench-tmp/), then in alternating fresh processes measures (a) reading its bytes and (b) loadModel,
 * and reports the ratio and resident memory against the raw tensor + index bytes.
 *
 *   npm run bench:load -- [--items 1000000] [--users 100000] [--runs 3]
 */
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { generateSyntheticCatalog } from '../lib/synthetic-catalog.js'
import { writeBundle } from '../../src/model-loader/write-bundle.js'

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
  },
})
const items = Number(values.items)
const users = Number(values.users)
const runs = Number(values.runs)
const D = 64
const BITS = 64
const dir = join('.bench-tmp', `load-${items}-${users}`, 'bundle')

if (!existsSync(join(dir, 'manifest.json'))) {
  console.log(`writing a ${items}-item bundle (64-bit codes, ${D}-dim F32, prebuilt HNSW) to ${dir} ...`)
  const t0 = performance.now()
  const cat = generateSyntheticCatalog({ items, dimension: D, codeBits: BITS, queries: users })
  await writeBundle(dir, {
    model: { id: 'synthetic', version: `${items}` },
    dimension: D,
    codeBits: BITS,
    items: Array.from({ length: items }, (_, i) => ({ id: `item-${i}`, title: `Synthetic item ${i}` })),
    users: Array.from({ length: users }, (_, i) => `user-${i}`),
    tables: {
      user: { dedicatedRows: users, sharedRows: 0, aggregation: 'sum', hash: { function: 'murmur3_x86_32', seeds: [1, 2] } },
      item: { dedicatedRows: items, sharedRows: 0, aggregation: 'sum', hash: { function: 'murmur3_x86_32', seeds: [3, 4] } },
    },
    tensors: {
      itemCodes: cat.codeBytes,
      // Users are the generator's queries: their codes come from their vectors like the items'.
      userCodes: new Uint8Array(cat.queryCodes.buffer, cat.queryCodes.byteOffset, cat.queryCodes.byteLength),
      itemEmbeddings: cat.itemVectors,
      userEmbeddings: cat.queryVectors,
    },
    hnsw: { space: 'ip', M: 16, efConstruction: 100, efSearch: 64, randomSeed: 100, prebuild: true },
  })
  console.log(`written in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

const size = (name: string): number => statSync(join(dir, name)).size
const tensorBytes = size('tensors.safetensors')
const indexBytes = size('items.hnsw')
const child = (mode: string): Record<string, number> => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/model-loader/load-child.ts', mode, dir], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim().split('\n').pop()!)

// The machine is shared: the load average says how much of the ratio is neighbours, not loader.
const loadBefore = loadavg()
const reads: number[] = []
const loads: Array<Record<string, number>> = []
for (let r = 0; r < runs; r++) {
  reads.push(child('read').ms)
  loads.push(child('load'))
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const readMs = median(reads)
const loadMs = median(loads.map((l) => l.ms))
const rssDelta = median(loads.map((l) => l.rssAfter - l.rssBefore))
const rssAfter = median(loads.map((l) => l.rssAfter))
const mb = (b: number): string => (b / 2 ** 20).toFixed(0)
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}`)
console.log(`bundle: ${items} items, ${users} users; tensors ${mb(tensorBytes)} MiB, index ${mb(indexBytes)} MiB`)
console.log(`load average (1 min) ${loadBefore[0].toFixed(2)} before, ${loadavg()[0].toFixed(2)} after; runs: read ${reads.map((x) => x.toFixed(0)).join(' ')} ms, load ${loads.map((l) => l.ms.toFixed(0)).join(' ')} ms`)
console.log('| measure | value |\n| --- | --- |')
console.log(`| read all bundle bytes (median of ${runs}) | ${readMs.toFixed(0)} ms |`)
console.log(`| loadModel (median of ${runs}) | ${loadMs.toFixed(0)} ms |`)
console.log(`| load / read | ${(loadMs / readMs).toFixed(2)}x (target <= 3x) |`)
console.log(`| RSS growth during load | ${mb(rssDelta)} MiB (process total ${mb(rssAfter)} MiB) |`)
console.log(`| raw tensor + index bytes | ${mb(tensorBytes + indexBytes)} MiB |`)
console.log(`| RSS growth / raw bytes | ${(rssDelta / (tensorBytes + indexBytes)).toFixed(2)}x (target <= 1.5x) |`)
console.log(`| tensors viewed in place / copied | ${loads[0].zeroCopy} / ${loads[0].copied} |`)
