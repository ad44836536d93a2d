/** Random Deep Retrieval structures for tests: seeded weights and item paths (each item's J paths distinct). */
import type { DeepRetrievalStructure } from '../../src/model-loader/deep-retrieval-tensors.js'
import type { DrShape } from '../../src/search/deep-retrieval/network.js'
import { initNetwork } from '../../src/trainer/deep-retrieval/network-init.js'
import { createRng } from '../../src/trainer/rng.js'

export interface TestStructureOptions {
  readonly items: number
  readonly dimension: number
  readonly depth?: number
  readonly width?: number
  readonly pathsPerItem?: number
  readonly embeddingDimension?: number
  readonly hidden?: number
  readonly beam?: number
  readonly seed?: number
  /** Multiplies every weight: larger logits make the softmaxes peaked (default 3). */
  readonly sharpness?: number
}

export function testStructureShape (o: TestStructureOptions): DrShape {
  const depth = o.depth ?? 2
  return { depth, width: o.width ?? 4, pathsPerItem: o.pathsPerItem ?? 2, embeddingDimension: depth > 1 ? (o.embeddingDimension ?? 3) : 0, hidden: o.hidden ?? 0, inputDimension: o.dimension }
}

export function randomStructure (o: TestStructureOptions): DeepRetrievalStructure {
  const shape = testStructureShape(o)
  const seed = o.seed ?? 1
  const network = initNetwork(shape, seed)
  const sharp = o.sharpness ?? 3
  const rng = createRng(seed + 7)
  for (const l of network.layers) {
    for (const a of [l.weight, l.bias, l.outWeight, l.outBias]) {
      if (a === null) continue
      for (let i = 0; i < a.length; i++) a[i] = a[i] * sharp + (a === l.bias || a === l.outBias ? rng.normal() : 0)
    }
  }
  let paths = 1
  for (let d = 0; d < shape.depth; d++) paths *= shape.width
  const J = Math.min(shape.pathsPerItem, paths)
  const itemKeys = new Int32Array(o.items * shape.pathsPerItem)
  for (let i = 0; i < o.items; i++) {
    for (let j = 0; j < shape.pathsPerItem; j++) {
      let key: number
      do key = Math.floor(rng.next() * paths)
      while (j < J && itemKeys.subarray(i * shape.pathsPerItem, i * shape.pathsPerItem + j).includes(key))
      itemKeys[i * shape.pathsPerItem + j] = key
    }
  }
  return { network, itemKeys, beam: o.beam ?? 4 }
}
