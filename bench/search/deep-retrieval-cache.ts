/**
 * The synthetic catalog's Deep Retrieval structure, trained once and cached under .bench-tmp/ (a
 * safetensors file in the bundle's dr_* layout, read back through the loader's validation): at 1M
 * items the synthetic pairs and the EM training take many minutes on a shared 2-core machine.
 *
 * The structure learns from synthetic users (further draws from the catalog's mixture) paired with
 * their best items by inner product within their best-scoring clusters (bench/lib/synthetic-pairs.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DeepRetrievalStructure } from '../../src/bundle-format/deep-retrieval.js'
import { deepRetrievalTensors, readDeepRetrieval } from '../../src/model-loader/deep-retrieval-tensors.js'
import { encodeSafetensors, parseSafetensors, viewTensor } from '../../src/model-loader/safetensors.js'
import { defaultDeepRetrievalOptions, type DeepRetrievalOptions } from '../../src/trainer/deep-retrieval/options.js'
import { trainDeepRetrieval } from '../../src/trainer/deep-retrieval/train.js'
import { generateSyntheticCatalog } from '../lib/synthetic-catalog.js'
import { syntheticPairs } from '../lib/synthetic-pairs.js'
import { BENCH_TMP } from './hnsw-cache.js'

export interface SyntheticStructureParams {
  readonly items: number
  readonly dimension: number
  readonly codeBits: number
  readonly seed: number
  readonly users: number
  readonly perUser: number
  readonly clustersScanned: number
  /** Overrides of the trainer's defaults for this catalog size. */
  readonly options: Partial<DeepRetrievalOptions>
}

export function structureKey (p: SyntheticStructureParams, dataKey: string): string {
  const o = Object.entries(p.options).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}${v}`).join('-')
  return `dr-${dataKey}-u${p.users}-p${p.perUser}-c${p.clustersScanned}${o ? `-${o}` : ''}-v1`
}

export function getOrTrainStructure (p: SyntheticStructureParams, dataKey: string, log: (line: string) => void): { structure: DeepRetrievalStructure, source: string, trainS: number } {
  mkdirSync(BENCH_TMP, { recursive: true })
  const file = join(BENCH_TMP, `${structureKey(p, dataKey)}.safetensors`)
  const beam = p.options.beam ?? defaultDeepRetrievalOptions(p.items).beam
  if (existsSync(file)) {
    const bytes = readFileSync(file)
    const st = parseSafetensors(bytes)
    const meta = JSON.parse(st.metadata.config ?? '{}')
    const structure = readDeepRetrieval({
      names: st.tensors.keys(),
      ints: (name) => { const info = st.tensors.get(name)!; return info.dtype === 'U8' ? viewTensor(bytes, info, Uint8Array) : viewTensor(bytes, info, Int32Array) },
      floats: (name) => viewTensor(bytes, st.tensors.get(name)!, Float32Array),
    }, meta, p.items, p.dimension)!
    log(`deep retrieval: read ${file}`)
    return { structure, source: 'read from the bench cache', trainS: Number(st.metadata.trainS) }
  }
  const t0 = performance.now()
  const cat = generateSyntheticCatalog({ items: p.items, dimension: p.dimension, codeBits: p.codeBits, seed: p.seed, queries: 0, users: p.users })
  const pairs = syntheticPairs(cat, { perUser: p.perUser, clustersScanned: p.clustersScanned })
  log(`deep retrieval: ${pairs.indptr[pairs.rows]} synthetic pairs in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const t1 = performance.now()
  // The synthetic pairs already are each user's best items by inner product: they are the pairs.
  const options = { ...defaultDeepRetrievalOptions(p.items), pairs: 'interactions' as const, ...p.options }
  const model = trainDeepRetrieval({ dimension: p.dimension, userVectors: cat.userVectors, itemVectors: cat.itemVectors, pairs }, options, log)
  const trainS = (performance.now() - t1) / 1000
  const structure = { network: model.network, itemKeys: model.itemKeys, beam }
  const { config, tensors } = deepRetrievalTensors(structure)
  writeFileSync(file, encodeSafetensors(tensors, { config: JSON.stringify(config), trainS: String(trainS) }))
  log(`deep retrieval: trained in ${trainS.toFixed(1)} s; cached at ${file}`)
  return { structure, source: 'trained', trainS }
}
