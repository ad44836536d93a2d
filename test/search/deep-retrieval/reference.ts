/**
 * A direct reference for the Deep Retrieval user model: each layer's map applied to the explicit
 * concatenation [u, E_0[c_0], ..., E_(d-1)[c_(d-1)]] in double precision, and every path's log-probability
 * by enumeration. The engine's prefix tables and beam search are checked against it.
 */
import { layerInputWidth, preActivationWidth, type DrNetwork } from '../../../src/search/deep-retrieval/network.js'

/** Layer d's K logits for the prefix nodes `prefix` (length d). */
export function referenceLogits (net: DrNetwork, u: ArrayLike<number>, prefix: readonly number[]): number[] {
  const { width: K, embeddingDimension: e, hidden, inputDimension: n } = net.shape
  const d = prefix.length
  const x: number[] = Array.from(u).slice(0, n)
  prefix.forEach((c, j) => { for (let k = 0; k < e; k++) x.push(net.nodeEmbeddings[(j * K + c) * e + k]) })
  const inW = layerInputWidth(net.shape, d)
  const out = preActivationWidth(net.shape)
  const layer = net.layers[d]
  const z: number[] = []
  for (let o = 0; o < out; o++) {
    let s = layer.bias[o]
    for (let k = 0; k < inW; k++) s += layer.weight[o * inW + k] * x[k]
    z.push(s)
  }
  if (hidden === 0) return z
  const h = z.map((v) => Math.max(0, v))
  const logits: number[] = []
  for (let c = 0; c < K; c++) {
    let s = layer.outBias![c]
    for (let k = 0; k < hidden; k++) s += layer.outWeight![c * hidden + k] * h[k]
    logits.push(s)
  }
  return logits
}

function logSoftmax (x: number[]): number[] {
  const max = Math.max(...x)
  const lse = max + Math.log(x.reduce((a, v) => a + Math.exp(v - max), 0))
  return x.map((v) => v - lse)
}

/** Every path's key and log p(path | u), best first (ties: lower key). */
export function referencePaths (net: DrNetwork, u: ArrayLike<number>): { key: number, logp: number }[] {
  const { depth: D, width: K } = net.shape
  const out: { key: number, logp: number }[] = []
  const walk = (prefix: number[], logp: number): void => {
    if (prefix.length === D) {
      out.push({ key: prefix.reduce((k, c) => k * K + c, 0), logp })
      return
    }
    const lsm = logSoftmax(referenceLogits(net, u, prefix))
    for (let c = 0; c < K; c++) walk([...prefix, c], logp + lsm[c])
  }
  walk([], 0)
  return out.sort((a, b) => b.logp - a.logp || a.key - b.key)
}
