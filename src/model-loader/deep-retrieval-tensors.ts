/**
 * The Deep Retrieval structure in a bundle: read and validated by the loader, written by the
 * trainer (docs/model-bundle.md, "Deep Retrieval"). A bundle without the manifest's
 * `deepRetrieval` entry has no dr_* tensors and serves exactly as before.
 */
import { BundleError } from './errors.js'
import { DR_LIMITS, DR_TENSOR_NAMES, DR_TENSOR_PREFIX, drTensorNames, layerInputWidth, preActivationWidth, type DeepRetrievalConfig, type DeepRetrievalStructure, type DrLayer, type DrShape } from '../bundle-format/deep-retrieval.js'
import { FILE_NAMES } from '../bundle-format/manifest.js'
import type { TensorToWrite } from './safetensors.js'

export type { DeepRetrievalStructure }

/** What the loader lends the reader: its checked tensor access. */
export interface TensorAccess {
  readonly names: Iterable<string>
  /** Shape- and dtype-checked integer tensor (U8 or I32) as an array of its values. */
  ints (name: string, shape: readonly number[]): Uint8Array | Int32Array
  /** Shape-checked F32 tensor, refused when any value is NaN or Infinity. */
  floats (name: string, shape: readonly number[]): Float32Array
}

export function shapeOfConfig (c: DeepRetrievalConfig, dimension: number): DrShape {
  return { depth: c.depth, width: c.width, pathsPerItem: c.pathsPerItem, embeddingDimension: c.embeddingDimension, hidden: c.hidden, inputDimension: dimension }
}

/** Manifest-level rules the schema alone cannot state (checked with the manifest); field errors name `deepRetrieval.<field>`. */
export function checkDeepRetrievalConfig (c: DeepRetrievalConfig): void {
  const fail = (field: string, msg: string): never => { throw new BundleError(FILE_NAMES.manifest, msg, `deepRetrieval.${field}`) }
  if (c.width ** c.depth > DR_LIMITS.maxPaths) fail('width', `width^depth = ${c.width}^${c.depth} exceeds ${DR_LIMITS.maxPaths} paths`)
  if (c.depth > 1 && c.embeddingDimension === 0) fail('embeddingDimension', 'must be at least 1 when depth > 1 (earlier nodes are inputs of later layers)')
  if (c.depth === 1 && c.embeddingDimension !== 0) fail('embeddingDimension', 'must be 0 when depth is 1 (no node is an input)')
  if (c.pathsPerItem > c.width ** c.depth) fail('pathsPerItem', `${c.pathsPerItem} paths per item but only ${c.width ** c.depth} paths`)
}

/**
 * Reads and validates the structure; null when the manifest has no `deepRetrieval` and no dr_*
 * tensor is present. Refuses (naming the tensor) a dr_* tensor without the manifest entry, a
 * missing or unknown one, a wrong shape or dtype, a node id outside 0..width-1, or a non-finite weight.
 */
export function readDeepRetrieval (access: TensorAccess, config: DeepRetrievalConfig | undefined, items: number, dimension: number): DeepRetrievalStructure | null {
  const present = [...access.names].filter((name) => name.startsWith(DR_TENSOR_PREFIX))
  if (config === undefined) {
    if (present.length > 0) throw new BundleError(FILE_NAMES.tensors, 'a Deep Retrieval tensor, but the manifest has no deepRetrieval entry', present[0])
    return null
  }
  const shape = shapeOfConfig(config, dimension)
  const known = new Set(drTensorNames(shape.depth))
  for (const name of present) if (!known.has(name)) throw new BundleError(FILE_NAMES.tensors, `not a tensor of a depth-${shape.depth} Deep Retrieval structure`, name)
  const { depth: D, width: K, pathsPerItem: J, embeddingDimension: e, hidden } = shape
  const out = preActivationWidth(shape)
  const layers: DrLayer[] = []
  for (let d = 0; d < D; d++) {
    const mlp = hidden > 0
    for (const name of [DR_TENSOR_NAMES.layerOutWeight(d), DR_TENSOR_NAMES.layerOutBias(d)]) {
      if (!mlp && present.includes(name)) throw new BundleError(FILE_NAMES.tensors, 'an output layer, but deepRetrieval.hidden is 0 (linear layers)', name)
    }
    layers.push({
      weight: access.floats(DR_TENSOR_NAMES.layerWeight(d), [out, layerInputWidth(shape, d)]),
      bias: access.floats(DR_TENSOR_NAMES.layerBias(d), [out]),
      outWeight: mlp ? access.floats(DR_TENSOR_NAMES.layerOutWeight(d), [K, hidden]) : null,
      outBias: mlp ? access.floats(DR_TENSOR_NAMES.layerOutBias(d), [K]) : null,
    })
  }
  const nodeEmbeddings = D > 1 ? access.floats(DR_TENSOR_NAMES.nodeEmbeddings, [D - 1, K, e]) : new Float32Array(0)
  if (D === 1 && present.includes(DR_TENSOR_NAMES.nodeEmbeddings)) throw new BundleError(FILE_NAMES.tensors, 'node embeddings, but a depth-1 structure has no node inputs', DR_TENSOR_NAMES.nodeEmbeddings)
  const nodes = access.ints(DR_TENSOR_NAMES.itemPaths, [items, J, D])
  const itemKeys = new Int32Array(items * J)
  for (let p = 0; p < items * J; p++) {
    let key = 0
    for (let d = 0; d < D; d++) {
      const c = nodes[p * D + d]
      if (!(c >= 0 && c < K)) throw new BundleError(FILE_NAMES.tensors, `node id ${c} at element ${p * D + d} (item row ${Math.floor(p / J)}, path ${p % J}, layer ${d}) is outside 0..${K - 1}`, DR_TENSOR_NAMES.itemPaths)
      key = key * K + c
    }
    itemKeys[p] = key
  }
  return { network: { shape, layers, nodeEmbeddings }, itemKeys, beam: config.beam }
}

/** The manifest entry and dr_* tensors of a structure, for writeBundle. Node ids as U8 when K <= 256. */
export function deepRetrievalTensors (s: DeepRetrievalStructure): { config: DeepRetrievalConfig, tensors: Record<string, TensorToWrite> } {
  const { depth: D, width: K, pathsPerItem: J, embeddingDimension: e, hidden } = s.network.shape
  const out = preActivationWidth(s.network.shape)
  const items = s.itemKeys.length / J
  const nodes = K <= 256 ? new Uint8Array(items * J * D) : new Int32Array(items * J * D)
  for (let p = 0; p < items * J; p++) {
    let key = s.itemKeys[p]
    for (let d = D - 1; d >= 0; d--) { nodes[p * D + d] = key % K; key = Math.floor(key / K) }
  }
  const tensors: Record<string, TensorToWrite> = {
    [DR_TENSOR_NAMES.itemPaths]: { dtype: K <= 256 ? 'U8' : 'I32', shape: [items, J, D], data: nodes },
  }
  if (D > 1) tensors[DR_TENSOR_NAMES.nodeEmbeddings] = { dtype: 'F32', shape: [D - 1, K, e], data: s.network.nodeEmbeddings }
  s.network.layers.forEach((l, d) => {
    tensors[DR_TENSOR_NAMES.layerWeight(d)] = { dtype: 'F32', shape: [out, layerInputWidth(s.network.shape, d)], data: l.weight }
    tensors[DR_TENSOR_NAMES.layerBias(d)] = { dtype: 'F32', shape: [out], data: l.bias }
    if (hidden > 0) {
      tensors[DR_TENSOR_NAMES.layerOutWeight(d)] = { dtype: 'F32', shape: [K, hidden], data: l.outWeight! }
      tensors[DR_TENSOR_NAMES.layerOutBias(d)] = { dtype: 'F32', shape: [K], data: l.outBias! }
    }
  })
  return { config: { depth: D, width: K, pathsPerItem: J, embeddingDimension: e, hidden, beam: s.beam }, tensors }
}
