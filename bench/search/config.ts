import type { HnswConfig } from '../../src/model-loader/manifest.js'

/** hnswlib's own defaults (M 16, efConstruction 200), so "hnswlib-node defaults" is this index at ef 10. */
export const BENCH_HNSW: HnswConfig = { space: 'ip', M: 16, efConstruction: 200, efSearch: 64, randomSeed: 100 }

export function syntheticDataKey (p: { items: number, dimension: number, codeBits: number, seed: number }): string {
  return `syn-n${p.items}-d${p.dimension}-b${p.codeBits}-s${p.seed}-v1`
}
