/**
 * The bundle's Deep Retrieval structure (docs/model-bundle.md): the manifest entry, the tensor
 * names and their limits. A leaf: the loader, the writer, the trainer and the search engine import
 * it, never each other through it.
 */
import { z } from 'zod'
import { MAX_DR_BEAM } from '../defaults.js'

export const DR_TENSOR_NAMES = {
  itemPaths: 'dr_item_paths',
  nodeEmbeddings: 'dr_node_embeddings',
  layerWeight: (d: number) => `dr_layer${d}_weight`,
  layerBias: (d: number) => `dr_layer${d}_bias`,
  layerOutWeight: (d: number) => `dr_layer${d}_out_weight`,
  layerOutBias: (d: number) => `dr_layer${d}_out_bias`,
} as const

/** Every tensor name a structure of this depth may hold (the loader refuses other dr_ names). */
export function drTensorNames (depth: number): string[] {
  const names: string[] = [DR_TENSOR_NAMES.itemPaths, DR_TENSOR_NAMES.nodeEmbeddings]
  for (let d = 0; d < depth; d++) names.push(DR_TENSOR_NAMES.layerWeight(d), DR_TENSOR_NAMES.layerBias(d), DR_TENSOR_NAMES.layerOutWeight(d), DR_TENSOR_NAMES.layerOutBias(d))
  return names
}

export const DR_TENSOR_PREFIX = 'dr_'

export const DR_LIMITS = {
  maxDepth: 8,
  maxWidth: 4096,
  /**
   * width^depth, the number of paths: keys are 32-bit integers and the engine keeps a bitmap of
   * the non-empty prefixes per layer (16 MiB at this bound).
   */
  maxPaths: 2 ** 27,
  maxPathsPerItem: 16,
  maxEmbeddingDimension: 1024,
  maxHidden: 4096,
  /** Widest beam a request (or a bundle's default) may ask for. */
  maxBeam: MAX_DR_BEAM,
} as const

export const DeepRetrievalSchema = z.object({
  /** D: layers, nodes per path. */
  depth: z.number().int().min(1).max(DR_LIMITS.maxDepth),
  /** K: nodes per layer. */
  width: z.number().int().min(2).max(DR_LIMITS.maxWidth),
  /** J: paths per item. */
  pathsPerItem: z.number().int().min(1).max(DR_LIMITS.maxPathsPerItem),
  /** e: node embedding width (0 only with depth 1). */
  embeddingDimension: z.number().int().min(0).max(DR_LIMITS.maxEmbeddingDimension),
  /** Hidden ReLU units per layer; 0 for a linear layer. */
  hidden: z.number().int().min(0).max(DR_LIMITS.maxHidden),
  /** Beam of a request that gives none. */
  beam: z.number().int().min(1).max(DR_LIMITS.maxBeam),
}).strict()
export type DeepRetrievalConfig = z.infer<typeof DeepRetrievalSchema>

/** The Deep Retrieval user model's shape (src/search/deep-retrieval/network.ts computes with it). */
export interface DrShape {
  /** D: layers (nodes per path). */
  readonly depth: number
  /** K: nodes per layer. */
  readonly width: number
  /** J: paths each item sits on. */
  readonly pathsPerItem: number
  /** e: width of a node embedding. */
  readonly embeddingDimension: number
  /** Hidden ReLU units of each layer's map; 0 for a linear map. */
  readonly hidden: number
  /** Width of the user vector (the served model's dimension). */
  readonly inputDimension: number
}

export interface DrLayer {
  /** [out, inputDimension + d * embeddingDimension], row-major; out = hidden, or width when linear. */
  readonly weight: Float32Array
  /** [out] */
  readonly bias: Float32Array
  /** [width, hidden] and [width]: the output layer of an MLP; null when linear. */
  readonly outWeight: Float32Array | null
  readonly outBias: Float32Array | null
}

export interface DrNetwork {
  readonly shape: DrShape
  readonly layers: readonly DrLayer[]
  /** [depth - 1, width, embeddingDimension]: the embedding of node c at layer j (the last layer's nodes are never an input). */
  readonly nodeEmbeddings: Float32Array
}

/** Width of layer d's first map: the hidden units, or the K logits of a linear layer. */
export function preActivationWidth (shape: DrShape): number {
  return shape.hidden > 0 ? shape.hidden : shape.width
}

export function layerInputWidth (shape: DrShape, d: number): number {
  return shape.inputDimension + d * shape.embeddingDimension
}

/** The structure as the Model holds it: the network, each item's path keys, the default beam. */
export interface DeepRetrievalStructure {
  readonly network: DrNetwork
  /** items x J path keys c_1 K^(D-1) + ... + c_D. */
  readonly itemKeys: Int32Array
  readonly beam: number
}
