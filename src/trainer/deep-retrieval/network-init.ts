/** Deep Retrieval networks for training: freshly initialised (seeded: small Gaussian weights, zero biases) or copied. */
import { layerInputWidth, preActivationWidth, type DrLayer, type DrNetwork, type DrShape } from '../../search/deep-retrieval/network.js'
import { createRng } from '../rng.js'

export function initNetwork (shape: DrShape, seed: number): DrNetwork {
  const rng = createRng(seed ^ 0x27d4eb2f)
  const gauss = (n: number, sd: number): Float32Array => {
    const a = new Float32Array(n)
    for (let i = 0; i < n; i++) a[i] = rng.normal() * sd
    return a
  }
  const out = preActivationWidth(shape)
  const layers: DrLayer[] = []
  for (let d = 0; d < shape.depth; d++) {
    const inW = layerInputWidth(shape, d)
    // He-style scale for the ReLU layer, a smaller one for logits so the first softmaxes start near uniform.
    const weight = gauss(out * inW, (shape.hidden > 0 ? Math.sqrt(2) : 0.5) / Math.sqrt(inW))
    layers.push({
      weight,
      bias: new Float32Array(out),
      outWeight: shape.hidden > 0 ? gauss(shape.width * shape.hidden, 0.5 / Math.sqrt(shape.hidden)) : null,
      outBias: shape.hidden > 0 ? new Float32Array(shape.width) : null,
    })
  }
  return { shape, layers, nodeEmbeddings: gauss(Math.max(0, shape.depth - 1) * shape.width * shape.embeddingDimension, 1 / Math.sqrt(Math.max(1, shape.embeddingDimension))) }
}

/** A deep copy (training changes weights in place). */
export function cloneNetwork (net: DrNetwork): DrNetwork {
  return {
    shape: net.shape,
    layers: net.layers.map((l) => ({ weight: Float32Array.from(l.weight), bias: Float32Array.from(l.bias), outWeight: l.outWeight && Float32Array.from(l.outWeight), outBias: l.outBias && Float32Array.from(l.outBias) })),
    nodeEmbeddings: Float32Array.from(net.nodeEmbeddings),
  }
}
