/**
 * The Deep Retrieval user model (Gao et al., "Deep Retrieval: Learning A Retrievable Structure for
 * Large-Scale Recommendations", CIKM 2021, section 3.1): D layers of K nodes; at layer d,
 *
 *   p(c_d | u, c_1..c_{d-1}) = softmax over K of f_d([u, E_1[c_1], ..., E_{d-1}[c_{d-1}]])
 *
 * with f_d a linear layer (hidden = 0) or one hidden ReLU layer. Shared by the trainer (which
 * changes the weights in place) and the serving engine (which only reads them).
 *
 * A linear map of a concatenation is a sum of one map per block: W_d [u, e_1, ..] = W_d^u u +
 * sum_j W_d^j e_j. So the user's block is computed once per query and layer (`userBase`), and each
 * earlier node's block once per model (`computePrefixTables`: K rows of the layer's width per
 * earlier layer); a prefix then costs a few row additions, not a matrix product.
 */
import { layerInputWidth, preActivationWidth, type DrNetwork, type DrShape } from '../../bundle-format/deep-retrieval.js'
import { dotAt } from '../mips/brute-force.js'

export { layerInputWidth, preActivationWidth }
export type { DrLayer, DrNetwork, DrShape } from '../../bundle-format/deep-retrieval.js'

/** K^d for d = 0..depth, as doubles (exact: K^D is bounded far below 2^53). */
export function widthPowers (shape: DrShape): Float64Array {
  const p = new Float64Array(shape.depth + 1)
  p[0] = 1
  for (let d = 1; d <= shape.depth; d++) p[d] = p[d - 1] * shape.width
  return p
}

/**
 * tables[d][j] ([width, out] row-major, j < d): row c is W_d^j E_j[c], what node c at layer j adds
 * to layer d's pre-activation. O(D^2 K out e) once per model (or per training batch).
 */
export function computePrefixTables (net: DrNetwork, into?: Float32Array[][]): Float32Array[][] {
  const { depth, width: K, embeddingDimension: e, inputDimension: n } = net.shape
  const out = preActivationWidth(net.shape)
  const tables: Float32Array[][] = into ?? []
  for (let d = 0; d < depth; d++) {
    tables[d] ??= []
    const w = net.layers[d].weight
    const inW = layerInputWidth(net.shape, d)
    for (let j = 0; j < d; j++) {
      const t = tables[d][j] ??= new Float32Array(K * out)
      const col = n + j * e
      for (let c = 0; c < K; c++) {
        const eb = (j * K + c) * e
        for (let o = 0; o < out; o++) {
          const wb = o * inW + col
          let s = 0
          for (let k = 0; k < e; k++) s += w[wb + k] * net.nodeEmbeddings[eb + k]
          t[c * out + o] = s
        }
      }
    }
  }
  return tables
}

/** base[d] = W_d^u u + b_d for every layer: the part of each pre-activation that only the user fixes. */
export function userBase (net: DrNetwork, u: Float32Array, base: Float32Array[]): void {
  const n = net.shape.inputDimension
  const out = preActivationWidth(net.shape)
  for (let d = 0; d < net.shape.depth; d++) {
    const { weight: w, bias } = net.layers[d]
    const inW = layerInputWidth(net.shape, d)
    const b = base[d]
    for (let o = 0; o < out; o++) b[o] = bias[o] + dotAt(w, o * inW, u, n)
  }
}

/**
 * Scratch for `prefixLogits`: the pre-activation z and the hidden activations h (MLP).
 */
export interface LogitScratch {
  readonly z: Float32Array
  readonly h: Float32Array
}

export function createLogitScratch (shape: DrShape): LogitScratch {
  return { z: new Float32Array(preActivationWidth(shape)), h: new Float32Array(Math.max(1, shape.hidden)) }
}

/**
 * Layer d's K logits for the prefix whose key (c_0 K^(d-1) + ... + c_(d-1)) is `prefixKey`, into
 * `logits`. `powers` = widthPowers(shape). Leaves z (and h for an MLP) in `scratch` for a backward pass.
 */
export function prefixLogits (net: DrNetwork, tables: Float32Array[][], base: Float32Array, d: number, prefixKey: number, powers: Float64Array, scratch: LogitScratch, logits: Float32Array): void {
  const { width: K, hidden } = net.shape
  const out = preActivationWidth(net.shape)
  const z = hidden > 0 ? scratch.z : logits
  z.set(base.subarray(0, out))
  for (let j = 0; j < d; j++) {
    // Node at layer j of the prefix: digit j (most significant first) of the d-digit key.
    const c = Math.floor(prefixKey / powers[d - 1 - j]) % K
    const t = tables[d][j]
    const tb = c * out
    for (let o = 0; o < out; o++) z[o] += t[tb + o]
  }
  if (hidden === 0) return
  const h = scratch.h
  for (let o = 0; o < hidden; o++) h[o] = z[o] > 0 ? z[o] : 0
  const { outWeight: w, outBias: b } = net.layers[d]
  for (let c = 0; c < K; c++) logits[c] = b![c] + dotAt(w!, c * hidden, h, hidden)
}

/**
 * e^x for x <= 0 (relative error below 3e-7; 0 below -700): 2^n times a degree-6 polynomial
 * for 2^f, f in [-1/2, 1/2]. Math.exp took most of a beam search's time (a log-softmax of K logits per
 * kept prefix); this is about 3x cheaper (bench/deep-retrieval/kernels.ts).
 */
export function expNonPositive (x: number): number {
  if (x < -700) return 0
  const t = x * LOG2E
  const n = Math.round(t)
  const f = t - n
  const p = 1 + f * (C1 + f * (C2 + f * (C3 + f * (C4 + f * (C5 + f * C6)))))
  return p * POW2_NEG[-n | 0]
}
const LOG2E = 1.4426950408889634
// Taylor coefficients of 2^f = e^(f ln 2): (ln 2)^i / i!.
const C1 = 0.6931471805599453
const C2 = 0.2402265069591007
const C3 = 0.05550410866482158
const C4 = 0.009618129107628477
const C5 = 0.0013333558146428443
const C6 = 0.00015403530393381609
/** 2^-i for i = 0..1011. */
const POW2_NEG = Float64Array.from({ length: 1012 }, (_, i) => 2 ** -i)

/** log sum_i e^(x_i) over x[0, n), max-shifted so large logits cannot overflow. */
export function logSumExp (x: Float32Array, n: number): number {
  let max = -Infinity
  for (let i = 0; i < n; i++) if (x[i] > max) max = x[i]
  let s = 0
  for (let i = 0; i < n; i++) s += expNonPositive(x[i] - max)
  return max + Math.log(s)
}

/** logits -> log-softmax in place. */
export function logSoftmaxInPlace (x: Float32Array, n: number): void {
  const lse = logSumExp(x, n)
  for (let i = 0; i < n; i++) x[i] -= lse
}

/** u / |u| into `out`; false for a zero (or non-finite) vector, which no structure can route. */
export function normalizeInput (u: Float32Array, n: number, out: Float32Array): boolean {
  let s = 0
  for (let k = 0; k < n; k++) s += u[k] * u[k]
  if (!(s > 0) || !Number.isFinite(s)) return false
  const inv = 1 / Math.sqrt(s)
  for (let k = 0; k < n; k++) out[k] = u[k] * inv
  return true
}
