/**
 * The M-step of Deep Retrieval's EM (Gao et al., section 3.3): with the user model fixed, choose
 * each item's J paths. The exact objective sum over the item's users of log sum_j p(c_j | u) is
 * replaced, as in the paper, by scores accumulated from beam search: every user's top paths
 * (with their probabilities) are credited to each of the user's items,
 *
 *   s[v, c] = sum over users u of v of p(c | u)   (c in u's beam),
 *
 * and each item's J paths are chosen by coordinate descent on
 *
 *   sum_v log sum_j s[v, c_j(v)]  -  alpha * sum_c f(|c|),   f(x) = x^4 / 4,
 *
 * where |c| is the number of items on path c: the penalty keeps a path from swallowing the
 * catalog. A step moves one of an item's paths to the candidate with the best gain in
 * log(partial + s) - alpha (f(|c| + 1) - f(|c|)). Items no user interacted with keep their paths.
 */
import { BeamSearch } from '../../search/deep-retrieval/beam-search.js'
import type { DrNetwork } from '../../search/deep-retrieval/network.js'
import { createRng } from '../rng.js'

export interface MStepInput {
  readonly net: DrNetwork
  readonly tables: Float32Array[][]
  /** Normalized user vectors, users x inputDimension. */
  readonly userVectors: Float32Array
  /** Items -> the users that interacted with them (CSR). */
  readonly itemIndptr: Int32Array
  readonly itemUsers: Int32Array
  /** items x J path keys, changed in place. */
  readonly itemKeys: Int32Array
  readonly beam: number
  /** Candidate paths kept per item (the best by score), besides its current ones. */
  readonly candidatesPerItem: number
  readonly penalty: number
  readonly passes: number
  readonly seed: number
}

export interface MStepStats {
  /** Item paths that changed. */
  readonly moved: number
  /** Largest number of items on one path, and paths holding at least one item. */
  readonly largestPath: number
  readonly usedPaths: number
}

/** The users' beams: users x beam path keys and probabilities (beam search without restriction). */
export function userBeams (net: DrNetwork, tables: Float32Array[][], userVectors: Float32Array, users: number, beam: number): { keys: Int32Array, probs: Float32Array } {
  const n = net.shape.inputDimension
  const search = new BeamSearch(net, tables, beam)
  const keys = new Int32Array(users * beam).fill(-1)
  const probs = new Float32Array(users * beam)
  for (let u = 0; u < users; u++) {
    const count = search.run(userVectors.subarray(u * n, (u + 1) * n), beam)
    for (let i = 0; i < count; i++) {
      keys[u * beam + i] = search.keys[i]
      probs[u * beam + i] = Math.exp(search.scores[i])
    }
  }
  return { keys, probs }
}

function penaltyStep (size: number): number {
  // f(x + 1) - f(x) for f(x) = x^4 / 4.
  const a = size + 1
  return (a * a * a * a - size * size * size * size) / 4
}

export function runMStep (input: MStepInput, beams: { keys: Int32Array, probs: Float32Array }): MStepStats {
  const { net, itemIndptr, itemUsers, itemKeys, beam, penalty } = input
  const J = net.shape.pathsPerItem
  let paths = 1
  for (let d = 0; d < net.shape.depth; d++) paths *= net.shape.width
  const items = itemIndptr.length - 1
  const L = input.candidatesPerItem
  // Candidates per item: the best L accumulated paths plus the current ones, with their scores.
  const candOffsets = new Int32Array(items + 1)
  const candKeys = new Int32Array(items * (L + J))
  const candScores = new Float64Array(items * (L + J))
  const table = new OpenTable(1024)
  let n = 0
  for (let v = 0; v < items; v++) {
    candOffsets[v] = n
    const from = itemIndptr[v]
    const to = itemIndptr[v + 1]
    if (from === to) continue
    table.clear((to - from) * beam)
    for (let p = from; p < to; p++) {
      const base = itemUsers[p] * beam
      for (let i = 0; i < beam; i++) {
        const key = beams.keys[base + i]
        if (key < 0) break
        table.add(key, beams.probs[base + i])
      }
    }
    for (let j = 0; j < J; j++) table.add(itemKeys[v * J + j], 0)
    n += table.best(L, itemKeys.subarray(v * J, (v + 1) * J), candKeys, candScores, n)
  }
  candOffsets[items] = n

  const counts = new Int32Array(paths)
  for (let i = 0; i < itemKeys.length; i++) counts[itemKeys[i]]++
  const before = Int32Array.from(itemKeys)
  const rng = createRng(input.seed ^ 0x1b873593)
  const order = Int32Array.from({ length: items }, (_, i) => i)
  for (let i = items - 1; i > 0; i--) {
    const r = Math.floor(rng.next() * (i + 1))
    const t = order[i]; order[i] = order[r]; order[r] = t
  }
  const current = new Float64Array(J)
  for (let pass = 0; pass < input.passes; pass++) {
    for (const v of order) {
      const from = candOffsets[v]
      const to = candOffsets[v + 1]
      if (from === to) continue
      for (let j = 0; j < J; j++) current[j] = scoreOf(candKeys, candScores, from, to, itemKeys[v * J + j])
      for (let j = 0; j < J; j++) {
        const slot = v * J + j
        counts[itemKeys[slot]]--
        let partial = 0
        for (let l = 0; l < J; l++) if (l !== j) partial += current[l]
        let bestKey = itemKeys[slot]
        let bestScore = current[j]
        let bestGain = -Infinity
        for (let c = from; c < to; c++) {
          const key = candKeys[c]
          let clash = false
          for (let l = 0; l < J; l++) if (l !== j && itemKeys[v * J + l] === key) { clash = true; break }
          if (clash) continue
          const gain = Math.log(partial + candScores[c] + 1e-12) - penalty * penaltyStep(counts[key])
          if (gain > bestGain || (gain === bestGain && key < bestKey)) { bestGain = gain; bestKey = key; bestScore = candScores[c] }
        }
        itemKeys[slot] = bestKey
        current[j] = bestScore
        counts[bestKey]++
      }
    }
  }
  let moved = 0
  for (let i = 0; i < itemKeys.length; i++) if (itemKeys[i] !== before[i]) moved++
  let largestPath = 0
  let usedPaths = 0
  for (let c = 0; c < paths; c++) {
    if (counts[c] > largestPath) largestPath = counts[c]
    if (counts[c] > 0) usedPaths++
  }
  return { moved, largestPath, usedPaths }
}

function scoreOf (keys: Int32Array, scores: Float64Array, from: number, to: number, key: number): number {
  for (let c = from; c < to; c++) if (keys[c] === key) return scores[c]
  return 0
}

/** Open addressing from path key to accumulated score, cleared per item. */
class OpenTable {
  private keys: Int32Array
  private values: Float64Array
  private used: Int32Array
  private size = 0
  private mask: number

  constructor (capacity: number) {
    this.keys = new Int32Array(capacity).fill(-1)
    this.values = new Float64Array(capacity)
    this.used = new Int32Array(capacity)
    this.mask = capacity - 1
  }

  /** Empties the table, growing it so `entries` distinct keys keep it at most half full. */
  clear (entries: number): void {
    let cap = this.keys.length
    while (cap < entries * 2) cap *= 2
    if (cap !== this.keys.length) {
      this.keys = new Int32Array(cap).fill(-1)
      this.values = new Float64Array(cap)
      this.used = new Int32Array(cap)
      this.mask = cap - 1
    } else {
      for (let i = 0; i < this.size; i++) this.keys[this.used[i]] = -1
    }
    this.size = 0
  }

  add (key: number, value: number): void {
    let h = Math.imul(key, 0x9e3779b1) & this.mask
    while (this.keys[h] !== -1 && this.keys[h] !== key) h = (h + 1) & this.mask
    if (this.keys[h] === -1) {
      this.keys[h] = key
      this.values[h] = value
      this.used[this.size++] = h
    } else {
      this.values[h] += value
    }
  }

  /**
   * Writes the `limit` best keys by value (ties: lower key), plus every key of `always` not among
   * them, into outKeys / outScores from `at`; returns how many.
   */
  best (limit: number, always: Int32Array, outKeys: Int32Array, outScores: Float64Array, at: number): number {
    const idx = Array.from(this.used.subarray(0, this.size))
    idx.sort((a, b) => this.values[b] - this.values[a] || this.keys[a] - this.keys[b])
    let n = 0
    const take = Math.min(limit, idx.length)
    for (let i = 0; i < take; i++) { outKeys[at + n] = this.keys[idx[i]]; outScores[at + n] = this.values[idx[i]]; n++ }
    for (const key of always) {
      let present = false
      for (let i = 0; i < n; i++) if (outKeys[at + i] === key) { present = true; break }
      if (present) continue
      let h = Math.imul(key, 0x9e3779b1) & this.mask
      while (this.keys[h] !== key) h = (h + 1) & this.mask
      outKeys[at + n] = key
      outScores[at + n] = this.values[h]
      n++
    }
    return n
  }
}
