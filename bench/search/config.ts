import type { HnswConfig } from '../../src/bundle-format/manifest.js'
import type { SyntheticStructureParams } from './deep-retrieval-cache.js'

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

/** The synthetic catalog's Deep Retrieval structure (bench/search/deep-retrieval-cache.ts): its training data and shape. */
export const DR_OPTIONS = {
  'no-dr': { type: 'boolean', default: false },
  /** Synthetic users and the pairs each brings (its best items within its best-scoring clusters). */
  'dr-users': { type: 'string', default: '50000' },
  'dr-per-user': { type: 'string', default: '20' },
  'dr-clusters': { type: 'string', default: '16' },
  /** Overrides of the trainer's defaults for the catalog size ('' keeps them). */
  'dr-width': { type: 'string', default: '' },
  'dr-paths': { type: 'string', default: '' },
  'dr-rounds': { type: 'string', default: '' },
  'dr-epochs': { type: 'string', default: '' },
  'dr-beams': { type: 'string', default: '4,8,16,32' },
} as const

export function drStructureParams (p: { items: number, dimension: number, codeBits: number, seed: number }, v: Record<string, string | boolean | undefined>): SyntheticStructureParams {
  const num = (key: string): number | undefined => (v[key] === '' || v[key] === undefined ? undefined : Number(v[key]))
  const options: Record<string, number> = {}
  for (const [flag, field] of [['dr-width', 'width'], ['dr-paths', 'pathsPerItem'], ['dr-rounds', 'rounds'], ['dr-epochs', 'epochs']] as const) {
    const x = num(flag)
    if (x !== undefined) options[field] = x
  }
  return { ...p, users: num('dr-users')!, perUser: num('dr-per-user')!, clustersScanned: num('dr-clusters')!, options }
}
