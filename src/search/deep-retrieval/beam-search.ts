/**
 * Beam search over the Deep Retrieval structure (Gao et al., section 3.4): layer by layer, every
 * kept prefix is extended by each of the K nodes, scored by log p(c_1..c_d | u) (the sum of the
 * layers' log-softmaxes), and the best B prefixes are kept. Paths are integer keys
 * c_1 K^(D-1) + ... + c_D; ties go to the lower key, so a search is a pure function of its input.
 *
 * `allowed` (the serving engine's) restricts every layer to prefixes that lead to at least one
 * item: a beam never spends a slot on an empty subtree. The trainer's M-step searches without it,
 * since an empty path is a place an item may move to.
 */
import { TopKHeap } from '../top-k.js'
import { createLogitScratch, logSumExp, prefixLogits, preActivationWidth, userBase, widthPowers, type DrNetwork, type LogitScratch } from './network.js'

export class BeamSearch {
  /** The last search's paths, best first: keys[0, count) and their log-probabilities. */
  readonly keys: Int32Array
  readonly scores: Float64Array
  /** Prefixes whose logits the last search computed (its work, besides the user's base). */
  expanded = 0
  private readonly curKeys: Int32Array
  private readonly curScores: Float64Array
  private readonly heap: TopKHeap
  private readonly base: Float32Array[]
  private readonly logits: Float32Array
  private readonly scratch: LogitScratch
  private readonly powers: Float64Array

  constructor (private readonly net: DrNetwork, private readonly tables: Float32Array[][], readonly maxBeam: number) {
    const out = preActivationWidth(net.shape)
    this.keys = new Int32Array(maxBeam)
    this.scores = new Float64Array(maxBeam)
    this.curKeys = new Int32Array(maxBeam)
    this.curScores = new Float64Array(maxBeam)
    this.heap = new TopKHeap(maxBeam)
    this.base = Array.from({ length: net.shape.depth }, () => new Float32Array(out))
    this.logits = new Float32Array(net.shape.width)
    this.scratch = createLogitScratch(net.shape)
    this.powers = widthPowers(net.shape)
  }

  /**
   * The best `beam` full paths for the (normalized) user vector `u`; returns how many (fewer when
   * `allowed` leaves fewer). allowed[d]: bitmap over the (d + 1)-node prefix keys, bit set = keep.
   */
  run (u: Float32Array, beam: number, allowed: readonly Uint32Array[] | null = null): number {
    const { depth, width: K } = this.net.shape
    const b = Math.min(beam, this.maxBeam)
    userBase(this.net, u, this.base)
    const { curKeys, curScores, heap, logits } = this
    let count = 1
    curKeys[0] = 0
    curScores[0] = 0
    this.expanded = 0
    for (let d = 0; d < depth; d++) {
      heap.reset(b)
      const bits = allowed === null ? null : allowed[d]
      for (let i = 0; i < count; i++) {
        // Prefixes come best first and a child never scores above its prefix (log p <= 0): once a
        // prefix is below the kth best child so far, so is every later one and all their children.
        const s0 = curScores[i]
        if (s0 < heap.threshold) break
        const prefix = curKeys[i]
        prefixLogits(this.net, this.tables, this.base[d], d, prefix, this.powers, this.scratch, logits)
        const base = s0 - logSumExp(logits, K)
        this.expanded++
        const keyBase = prefix * K
        let threshold = heap.threshold
        for (let c = 0; c < K; c++) {
          const s = base + logits[c]
          if (s < threshold) continue
          const key = keyBase + c
          if (bits !== null && (bits[key >>> 5] & (1 << (key & 31))) === 0) continue
          heap.push(key, s)
          threshold = heap.threshold
        }
      }
      count = heap.drainInto(d === depth - 1 ? this.keys : curKeys, d === depth - 1 ? this.scores : curScores)
      if (count === 0) return 0
    }
    return count
  }
}
