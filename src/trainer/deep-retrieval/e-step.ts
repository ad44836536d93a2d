/**
 * The E-step of Deep Retrieval's EM (Gao et al., section 3.2): with each item's J paths fixed,
 * train the user model by minibatch SGD (Adam) to maximise, over the (user, item) training pairs,
 *
 *   log sum_j p(pi_j(item) | user),   p(c | u) = prod_d softmax_d(c_d | u, c_1..c_(d-1)).
 *
 * The gradient of -log sum_j p_j at layer d's logits, for the prefix shared by some of the user's
 * paths, is (sum of their posteriors w) * softmax - (the posteriors, per next node), w_j = p_j /
 * sum_l p_l. All of a user's items are handled together: their paths are sorted, so the paths
 * through one prefix are a run, and each distinct prefix is evaluated and back-propagated once (a
 * user's items share most of their prefixes). Gradients of the user's block of every layer are
 * summed over the user's prefixes first and multiplied by u once.
 */
import { computePrefixTables, createLogitScratch, layerInputWidth, logSoftmaxInPlace, prefixLogits, preActivationWidth, userBase, widthPowers, type DrNetwork, type LogitScratch } from '../../search/deep-retrieval/network.js'

export interface EStepOptions {
  readonly learningRate: number
  /** L2 penalty on the weights and embeddings (decoupled, as AdamW). */
  readonly weightDecay: number
}

interface AdamSlot {
  readonly p: Float32Array
  readonly g: Float64Array
  readonly m: Float32Array
  readonly v: Float32Array
  readonly decay: boolean
}

const BETA1 = 0.9
const BETA2 = 0.999
const ADAM_EPS = 1e-8

export class EStep {
  /** Prefix tables of the current weights (refreshed by every step). */
  tables: Float32Array[][]
  private readonly slots: AdamSlot[] = []
  private readonly gWeight: Float64Array[]
  private readonly gBias: Float64Array[]
  private readonly gOutWeight: (Float64Array | null)[]
  private readonly gOutBias: (Float64Array | null)[]
  private readonly gEmbeddings: Float64Array
  /** gT[d][j]: gradient at layer d's pre-activation per node of layer j (width x out). */
  private readonly gTables: Float64Array[][]
  /** Per layer: the user-block gradient summed over the current user's prefixes. */
  private readonly gUser: Float64Array[]
  private readonly base: Float32Array[]
  private readonly powers: Float64Array
  private readonly scratch: LogitScratch
  private readonly gz: Float64Array
  private readonly gNode: Float64Array
  private steps = 0
  private buf = new UserBuffers(0, 0, 0, 0)

  constructor (readonly net: DrNetwork, private readonly opts: EStepOptions) {
    const { depth, width: K, hidden, embeddingDimension: e } = net.shape
    const out = preActivationWidth(net.shape)
    this.gWeight = net.layers.map((l) => new Float64Array(l.weight.length))
    this.gBias = net.layers.map((l) => new Float64Array(l.bias.length))
    this.gOutWeight = net.layers.map((l) => l.outWeight ? new Float64Array(l.outWeight.length) : null)
    this.gOutBias = net.layers.map((l) => l.outBias ? new Float64Array(l.outBias.length) : null)
    this.gEmbeddings = new Float64Array(net.nodeEmbeddings.length)
    this.gTables = Array.from({ length: depth }, (_, d) => Array.from({ length: d }, () => new Float64Array(K * out)))
    this.gUser = Array.from({ length: depth }, () => new Float64Array(out))
    this.base = Array.from({ length: depth }, () => new Float32Array(out))
    this.powers = widthPowers(net.shape)
    this.scratch = createLogitScratch(net.shape)
    this.gz = new Float64Array(out)
    this.gNode = new Float64Array(K)
    net.layers.forEach((l, d) => {
      this.slot(l.weight, this.gWeight[d], true)
      this.slot(l.bias, this.gBias[d], false)
      if (l.outWeight) this.slot(l.outWeight, this.gOutWeight[d]!, true)
      if (l.outBias) this.slot(l.outBias, this.gOutBias[d]!, false)
    })
    if (e > 0 && depth > 1) this.slot(net.nodeEmbeddings, this.gEmbeddings, true)
    this.tables = computePrefixTables(net)
    void hidden
  }

  private slot (p: Float32Array, g: Float64Array, decay: boolean): void {
    this.slots.push({ p, g, m: new Float32Array(p.length), v: new Float32Array(p.length), decay })
  }

  /**
   * Adds the gradient of -sum over `items` of log sum_j p(path_j(item) | u) and returns that loss.
   * `u` is the normalized user vector; itemKeys[item * J + j] the item's path keys.
   */
  accumulateUser (u: Float32Array, items: Int32Array, itemsFrom: number, itemsTo: number, itemKeys: Int32Array): number {
    const net = this.net
    const { depth: D, width: K, pathsPerItem: J, hidden } = net.shape
    const out = preActivationWidth(net.shape)
    const m = itemsTo - itemsFrom
    const E = m * J
    if (E === 0) return 0
    const b = this.buffers(E)
    // Sort the user's paths by key (key * E + entry is exact in a double: keys < 2^27, E < 2^26).
    for (let i = 0; i < m; i++) {
      const item = items[itemsFrom + i]
      for (let j = 0; j < J; j++) b.sortKey[i * J + j] = itemKeys[item * J + j] * E + i * J + j
    }
    const sorted = b.sortKey.subarray(0, E).sort()
    for (let s = 0; s < E; s++) {
      const key = Math.floor(sorted[s] / E)
      b.key[s] = key
      b.entry[s] = sorted[s] - key * E
      b.logp[s] = 0
    }
    userBase(net, u, this.base)
    // Forward: one node per distinct prefix at each layer, its run of sorted paths, its log-softmax.
    let nodes = 0
    for (let d = 0; d < D; d++) {
      const div = this.powers[D - d]
      const digitDiv = this.powers[D - 1 - d]
      let s = 0
      while (s < E) {
        const prefix = Math.floor(b.key[s] / div)
        let end = s + 1
        while (end < E && Math.floor(b.key[end] / div) === prefix) end++
        const n = nodes++
        b.nodeLayer[n] = d
        b.nodePrefix[n] = prefix
        b.nodeFrom[n] = s
        b.nodeTo[n] = end
        const lsm = b.lsm.subarray(n * K, (n + 1) * K)
        prefixLogits(net, this.tables, this.base[d], d, prefix, this.powers, this.scratch, lsm)
        if (hidden > 0) {
          b.z.set(this.scratch.z, n * out)
          b.h.set(this.scratch.h, n * hidden)
        }
        logSoftmaxInPlace(lsm, K)
        for (let t = s; t < end; t++) b.logp[t] += lsm[Math.floor(b.key[t] / digitDiv) % K]
        s = end
      }
    }
    // Posterior of each path among its item's J paths, and the loss.
    for (let s = 0; s < E; s++) b.byEntry[b.entry[s]] = b.logp[s]
    let loss = 0
    for (let i = 0; i < m; i++) {
      let max = -Infinity
      for (let j = 0; j < J; j++) max = Math.max(max, b.byEntry[i * J + j])
      let sum = 0
      for (let j = 0; j < J; j++) sum += Math.exp(b.byEntry[i * J + j] - max)
      const lse = max + Math.log(sum)
      loss -= lse
      for (let j = 0; j < J; j++) b.byEntry[i * J + j] = Math.exp(b.byEntry[i * J + j] - lse)
    }
    for (let s = 0; s < E; s++) b.weight[s] = b.byEntry[b.entry[s]]
    // Backward, node by node.
    for (let d = 0; d < D; d++) this.gUser[d].fill(0)
    const gNode = this.gNode
    for (let n = 0; n < nodes; n++) {
      const d = b.nodeLayer[n]
      const digitDiv = this.powers[D - 1 - d]
      let total = 0
      for (let t = b.nodeFrom[n]; t < b.nodeTo[n]; t++) total += b.weight[t]
      const lb = n * K
      for (let c = 0; c < K; c++) gNode[c] = total * Math.exp(b.lsm[lb + c])
      for (let t = b.nodeFrom[n]; t < b.nodeTo[n]; t++) gNode[Math.floor(b.key[t] / digitDiv) % K] -= b.weight[t]
      this.backwardNode(d, b.nodePrefix[n], n, b)
    }
    for (let d = 0; d < D; d++) {
      const g = this.gUser[d]
      const gw = this.gWeight[d]
      const inW = layerInputWidth(net.shape, d)
      const nIn = net.shape.inputDimension
      for (let o = 0; o < out; o++) {
        const go = g[o]
        if (go === 0) continue
        const wb = o * inW
        for (let k = 0; k < nIn; k++) gw[wb + k] += go * u[k]
      }
    }
    return loss
  }

  /** From gNode (the gradient at layer d's logits for this prefix) to the pre-activation and its sources. */
  private backwardNode (d: number, prefix: number, n: number, b: UserBuffers): void {
    const { width: K, hidden } = this.net.shape
    const out = preActivationWidth(this.net.shape)
    const gNode = this.gNode
    const gz = this.gz
    if (hidden === 0) {
      for (let c = 0; c < K; c++) gz[c] = gNode[c]
    } else {
      const w = this.net.layers[d].outWeight!
      const gw = this.gOutWeight[d]!
      const gb = this.gOutBias[d]!
      const hb = n * hidden
      gz.fill(0)
      for (let c = 0; c < K; c++) {
        const g = gNode[c]
        gb[c] += g
        const wb = c * hidden
        for (let k = 0; k < hidden; k++) {
          gw[wb + k] += g * b.h[hb + k]
          gz[k] += g * w[wb + k]
        }
      }
      const zb = n * out
      for (let k = 0; k < hidden; k++) if (b.z[zb + k] <= 0) gz[k] = 0
    }
    const gBias = this.gBias[d]
    const gUser = this.gUser[d]
    for (let o = 0; o < out; o++) { gBias[o] += gz[o]; gUser[o] += gz[o] }
    for (let j = 0; j < d; j++) {
      const c = Math.floor(prefix / this.powers[d - 1 - j]) % K
      const gt = this.gTables[d][j]
      const tb = c * out
      for (let o = 0; o < out; o++) gt[tb + o] += gz[o]
    }
  }

  /** The summed gradient so far of every trained array (for checks; `step` applies it). */
  gradients (): { readonly param: Float32Array, readonly grad: Float64Array }[] {
    this.foldTableGradients()
    return this.slots.map((s) => ({ param: s.p, grad: s.g }))
  }

  /** Recomputes the prefix tables after the weights were changed from outside. */
  refreshTables (): void {
    computePrefixTables(this.net, this.tables)
  }

  /** One Adam step on the mean gradient over `pairs` pairs; clears the gradients and refreshes the tables. */
  step (pairs: number): void {
    if (pairs === 0) return
    this.foldTableGradients()
    const lr = this.opts.learningRate
    const t = ++this.steps
    const c1 = 1 / (1 - BETA1 ** t)
    const c2 = 1 / (1 - BETA2 ** t)
    const scale = 1 / pairs
    const decay = lr * this.opts.weightDecay
    for (const { p, g, m, v, decay: decays } of this.slots) {
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] * scale
        const mi = m[i] = BETA1 * m[i] + (1 - BETA1) * gi
        const vi = v[i] = BETA2 * v[i] + (1 - BETA2) * gi * gi
        let pi = p[i] - lr * (mi * c1) / (Math.sqrt(vi * c2) + ADAM_EPS)
        if (decays) pi -= decay * p[i]
        p[i] = pi
      }
      g.fill(0)
    }
    computePrefixTables(this.net, this.tables)
  }

  /** gT[d][j][c] -> the embedding block of W_d and the embedding of node c at layer j. */
  private foldTableGradients (): void {
    const net = this.net
    const { depth: D, width: K, embeddingDimension: e, inputDimension: n } = net.shape
    const out = preActivationWidth(net.shape)
    const E = net.nodeEmbeddings
    for (let d = 1; d < D; d++) {
      const w = net.layers[d].weight
      const gw = this.gWeight[d]
      const inW = layerInputWidth(net.shape, d)
      for (let j = 0; j < d; j++) {
        const gt = this.gTables[d][j]
        const col = n + j * e
        for (let c = 0; c < K; c++) {
          const eb = (j * K + c) * e
          for (let o = 0; o < out; o++) {
            const g = gt[c * out + o]
            if (g === 0) continue
            const wb = o * inW + col
            for (let k = 0; k < e; k++) {
              gw[wb + k] += g * E[eb + k]
              this.gEmbeddings[eb + k] += g * w[wb + k]
            }
          }
        }
        gt.fill(0)
      }
    }
  }

  private buffers (entries: number): UserBuffers {
    if (this.buf.capacity < entries) {
      const { width: K, depth: D, hidden } = this.net.shape
      const capacity = Math.max(entries, this.buf.capacity * 2, 64)
      this.buf = new UserBuffers(capacity, K, D, hidden > 0 ? hidden : 0)
    }
    return this.buf
  }
}

/** Scratch for one user's paths, grown to the largest user seen. */
class UserBuffers {
  readonly sortKey: Float64Array
  readonly key: Int32Array
  readonly entry: Int32Array
  readonly logp: Float64Array
  readonly byEntry: Float64Array
  readonly weight: Float64Array
  readonly nodeLayer: Int32Array
  readonly nodePrefix: Int32Array
  readonly nodeFrom: Int32Array
  readonly nodeTo: Int32Array
  readonly lsm: Float32Array
  readonly z: Float32Array
  readonly h: Float32Array

  constructor (readonly capacity: number, K: number, D: number, hidden: number) {
    const nodes = 1 + Math.max(0, D - 1) * capacity
    this.sortKey = new Float64Array(capacity)
    this.key = new Int32Array(capacity)
    this.entry = new Int32Array(capacity)
    this.logp = new Float64Array(capacity)
    this.byEntry = new Float64Array(capacity)
    this.weight = new Float64Array(capacity)
    this.nodeLayer = new Int32Array(nodes)
    this.nodePrefix = new Int32Array(nodes)
    this.nodeFrom = new Int32Array(nodes)
    this.nodeTo = new Int32Array(nodes)
    this.lsm = new Float32Array(nodes * K)
    this.z = new Float32Array(hidden > 0 ? nodes * hidden : 0)
    this.h = new Float32Array(hidden > 0 ? nodes * hidden : 0)
  }
}
