/**
 * Built HNSW indexes cached under .bench-tmp/ (gitignored): hnswlib-node builds single-threaded,
 * and 1M x 64 takes many minutes, so a re-run with the same catalog and parameters reads the file.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { HnswConfig } from '../../src/bundle-format/manifest.js'
import { buildHnswIndex, hnswIndexDimension, maxAugmentedNorm, readHnswIndex } from '../../src/model-loader/hnsw-index.js'
import type { HnswHandle } from '../../src/model-loader/model.js'

export const BENCH_TMP = '.bench-tmp'

export interface CachedHnswInput {
  readonly vectors: Float32Array
  readonly count: number
  readonly dimension: number
  readonly bias: Float32Array | null
  /** Identifies the data (generator parameters); part of the cache key. */
  readonly dataKey: string
}

export async function getOrBuildHnsw (input: CachedHnswInput, config: HnswConfig, log: (line: string) => void = console.log): Promise<HnswHandle> {
  mkdirSync(BENCH_TMP, { recursive: true })
  const file = join(BENCH_TMP, `hnsw-${input.dataKey}-${config.space}-M${config.M}-efc${config.efConstruction}-seed${config.randomSeed}.bin`)
  const indexDimension = hnswIndexDimension(input.dimension, input.bias !== null, config.space)
  const maxNorm = config.space === 'l2-mips' ? maxAugmentedNorm(input) : 0
  const t0 = performance.now()
  if (existsSync(file)) {
    const index = await readHnswIndex(file, config.space, indexDimension, config.efSearch)
    const ms = performance.now() - t0
    log(`hnsw ${config.space}: read ${file} in ${(ms / 1000).toFixed(1)} s`)
    return { index, indexDimension, space: config.space, maxNorm, source: 'file', buildMs: ms }
  }
  log(`hnsw ${config.space}: building ${input.count} items (M=${config.M}, efConstruction=${config.efConstruction}); cached at ${file}`)
  const built = buildHnswIndex(input, config)
  const ms = performance.now() - t0
  log(`hnsw ${config.space}: built in ${(ms / 1000).toFixed(1)} s`)
  await built.index.writeIndex(file)
  return { index: built.index, indexDimension, space: config.space, maxNorm: built.maxNorm, source: 'built', buildMs: ms }
}
