import type { HnswConfig } from '../../src/bundle-format/manifest.js'

/** hnswlib's own defaults (M 16, efConstruction 200), so "hnswlib-node defaults" is this index at ef 10. */
export const BENCH_HNSW: HnswConfig = { space: 'ip', M: 16, efConstruction: 200, efSearch: 64, randomSeed: 100 }

export function syntheticDataKey (p: { items: number, dimension: number, codeBits: number, seed: number }): string {
  return `syn-n${p.items}-d${p.dimension}-b${p.codeBits}-s${p.seed}-v1`
}

/** The flags that pick the synthetic catalog and the HNSW graph, shared by run.ts and prebuild-hnsw.ts (same flags, same cache keys). */
export const CATALOG_OPTIONS = {
  // HNSW graph degree: 16 is hnswlib's default; 32 trades build time and memory for recall.
  M: { type: 'string', default: String(BENCH_HNSW.M) },
  items: { type: 'string', default: '1000000' },
  dimension: { type: 'string', default: '64' },
  bits: { type: 'string', default: '64' },
  seed: { type: 'string', default: '1' },
} as const
