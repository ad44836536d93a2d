/**
 * Builds the bench's HNSW indexes into the cache ahead of a run (they are what makes a cold 1M run
 * slow). Same flags as run.ts for the catalog: node --import tsx bench/search/prebuild-hnsw.ts --items 1000000
 */
import { parseArgs } from 'node:util'
import { generateSyntheticCatalog } from '../lib/synthetic-catalog.js'
import { getOrBuildHnsw } from './hnsw-cache.js'
import { BENCH_HNSW, CATALOG_OPTIONS, syntheticDataKey } from './config.js'

const { values } = parseArgs({
  options: {
    ...CATALOG_OPTIONS,
    space: { type: 'string', default: 'ip,l2-mips' },
  },
})
const params = { items: Number(values.items), dimension: Number(values.dimension), codeBits: Number(values.bits), seed: Number(values.seed) }
const catalog = generateSyntheticCatalog(params)
for (const space of values.space.split(',') as ('ip' | 'l2-mips')[]) {
  await getOrBuildHnsw({ vectors: catalog.itemVectors, count: catalog.itemCount, dimension: catalog.dimension, bias: null, dataKey: syntheticDataKey(params) }, { ...BENCH_HNSW, M: Number(values.M), space })
}
