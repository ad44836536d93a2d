/**
 * Balanced co-clustering (BACO, SIGIR 2026; the authors' code is HKBU-LAGAS/BACO): users and items
 * are clustered together by weighted label propagation on the bipartite interaction graph, and a
 * table's clusters become its rows. Moving node v (weight w_v = its interaction weight) to label l
 * gains e(v, l) - gamma * w_v * vol_opp(l) / W: its edge weight into l minus a penalty growing with
 * the opposite side's volume of l (W = all edge weight; gamma = 1 is bipartite modularity), which
 * keeps clusters balanced. A few sweeps in seeded random order.
 *
 * Fitting the row budget: labels start at the L most frequent ids of the mapped side (L = rows
 * minus the dedicated rows), everything else unlabelled, so propagation can only merge clusters,
 * never make more than L; a hard bound (capacityFactor x ceil(tail / L)) caps a label's members on
 * the mapped side. With `secondary`, an id also takes its second-best label when that label holds
 * at least `secondaryRatio` of the best one's edge weight (two rows, summed).
 *
 * Ids without a training interaction (no edge: propagation never reaches them) share one "cold"
 * label of their own: its row is trained on no data and stays at zero, as their rows in the full
 * model do. Spread over the other clusters they would take those clusters' trained vectors and
 * crowd real items out of top-k lists (ml-latest-small's time split leaves 1,494 of 9,724 items
 * without a training rating).
 */
import { createRng } from '../rng.js'
import { frequencyOrder } from '../table-layout.js'
import type { Csr } from '../csr.js'
import type { RowAssignment } from './assignment.js'
import { rowCounts, type MappingInput } from './input.js'

/**
 * dedicatedShare 0.5 and no secondary cluster by measurement: Gowalla, items at 5% of their rows,
 * users full (`npm run bench:mappings -- --budgets 0.05 --kinds baco --eval-users 3000
 * --baco-share S [--secondary]`): Recall@20 vs full 0.364x (S = 0), 0.722x (0.25), 0.780x (0.5),
 * 0.749x (0.5 with a second cluster per item); hashing 0.626x.
 */
export const BACO_DEFAULTS = {
  dedicatedShare: 0.5,
  gamma: 1,
  sweeps: 6,
  capacityFactor: 2,
  secondaryRatio: 0.5,
} as const

interface Side {
  readonly graph: Csr
  readonly weight: Float64Array
  readonly label: Int32Array
  /** Per label: weight of this side's nodes in it. */
  readonly volume: Float64Array
  /** Per label: members counted against the bound (mapped side, non-dedicated), or null: no bound. */
  readonly size: Int32Array | null
  readonly bounded: Uint8Array | null
}

function nodeWeights (g: Csr): Float64Array {
  const w = new Float64Array(g.rows)
  for (let r = 0; r < g.rows; r++) for (let p = g.indptr[r]; p < g.indptr[r + 1]; p++) w[r] += g.values[p]
  return w
}

/** Moves each node of `side` (seeded random order) to its best label given `other`'s labels. */
function sweep (side: Side, other: Side, gamma: number, total: number, capacity: number, acc: Float64Array, touched: Int32Array, rng: ReturnType<typeof createRng>): number {
  const n = side.graph.rows
  const order = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); const t = order[i]; order[i] = order[j]; order[j] = t }
  let moves = 0
  for (const v of order) {
    const nt = gatherLabels(side.graph, v, other.label, acc, touched)
    if (nt === 0) continue
    const cur = side.label[v]
    const wv = side.weight[v]
    const bounded = side.size !== null && side.bounded![v] === 1
    let best = cur
    let bestGain = cur === -1 ? -Infinity : acc[cur] - gamma * wv * other.volume[cur] / total
    for (let t = 0; t < nt; t++) {
      const l = touched[t]
      if (l === cur || (bounded && side.size![l] >= capacity)) continue
      const g = acc[l] - gamma * wv * other.volume[l] / total
      if (g > bestGain || (g === bestGain && l < best)) { bestGain = g; best = l }
    }
    for (let t = 0; t < nt; t++) acc[touched[t]] = 0
    if (best === cur) continue
    if (cur !== -1) { side.volume[cur] -= wv; if (bounded) side.size![cur]-- }
    side.volume[best] += wv
    if (bounded) side.size![best]++
    side.label[v] = best
    moves++
  }
  return moves
}

/** acc[l] = edge weight from v into label l; returns how many labels were touched (listed in `touched`). */
function gatherLabels (g: Csr, v: number, labels: Int32Array, acc: Float64Array, touched: Int32Array): number {
  let nt = 0
  for (let p = g.indptr[v]; p < g.indptr[v + 1]; p++) {
    const l = labels[g.indices[p]]
    if (l === -1) continue
    if (acc[l] === 0) touched[nt++] = l
    acc[l] += g.values[p]
  }
  return nt
}

/** Labels (0..L-1) of the mapped side's ids, and each id's second label (-1: none) when asked. */
export function bacoLabels (input: MappingInput, labels: number, dedicated: Int32Array, secondary: boolean, gamma = BACO_DEFAULTS.gamma): { primary: Int32Array, second: Int32Array } {
  const n = input.matrix.rows
  const rng = createRng(input.seed ^ 0x1b873593)
  const mine: Side = { graph: input.matrix, weight: nodeWeights(input.matrix), label: new Int32Array(n).fill(-1), volume: new Float64Array(labels), size: new Int32Array(labels), bounded: new Uint8Array(n).fill(1) }
  const opp: Side = { graph: input.transpose, weight: nodeWeights(input.transpose), label: new Int32Array(input.transpose.rows).fill(-1), volume: new Float64Array(labels), size: null, bounded: null }
  for (const id of dedicated) mine.bounded![id] = 0
  const order = frequencyOrder(rowCounts(input.matrix))
  const seedable = labels - coldLabel(mine, labels)
  let seeded = 0
  for (let r = 0; r < n && seeded < seedable; r++) {
    const id = order[r]
    if (mine.bounded![id] === 0) continue
    mine.label[id] = seeded
    mine.volume[seeded] += mine.weight[id]
    mine.size![seeded++]++
  }
  const tail = n - dedicated.length
  const capacity = Math.max(1, Math.ceil(BACO_DEFAULTS.capacityFactor * Math.ceil(tail / labels)))
  let total = 0
  for (let i = 0; i < n; i++) total += mine.weight[i]
  const acc = new Float64Array(labels)
  const touched = new Int32Array(labels)
  for (let s = 0; s < BACO_DEFAULTS.sweeps; s++) {
    sweep(opp, mine, gamma, total, capacity, acc, touched, rng)
    const moved = sweep(mine, opp, gamma, total, capacity, acc, touched, rng)
    if (moved === 0 && s > 0) break
  }
  placeUnlabelled(mine, seedable)
  const second = new Int32Array(n).fill(-1)
  if (secondary) secondLabels(mine, opp, gamma, total, acc, touched, second)
  return { primary: mine.label, second }
}

/**
 * Puts the non-dedicated ids without an edge into the last label, out of the size bound (they never
 * move: a sweep skips ids with no labelled neighbour). Returns 1 when it did, 0 when there are none
 * or there is only one label.
 */
function coldLabel (side: Side, labels: number): number {
  if (labels < 2) return 0
  let cold = 0
  for (let v = 0; v < side.label.length; v++) {
    if (side.bounded![v] === 0 || side.graph.indptr[v + 1] > side.graph.indptr[v]) continue
    side.label[v] = labels - 1
    side.bounded![v] = 0
    cold++
  }
  return cold > 0 ? 1 : 0
}

/** Ids no propagation reached (no labelled neighbour) fill the smallest of labels 0..labels-1, in id order. */
function placeUnlabelled (side: Side, labels: number): void {
  const size = side.size!
  for (let v = 0; v < side.label.length; v++) {
    if (side.label[v] !== -1 || side.bounded![v] === 0) continue
    let smallest = 0
    for (let l = 1; l < labels; l++) if (size[l] < size[smallest]) smallest = l
    side.label[v] = smallest
    size[smallest]++
  }
}

function secondLabels (mine: Side, opp: Side, gamma: number, total: number, acc: Float64Array, touched: Int32Array, out: Int32Array): void {
  for (let v = 0; v < mine.label.length; v++) {
    if (mine.bounded![v] === 0) continue
    const nt = gatherLabels(mine.graph, v, opp.label, acc, touched)
    const cur = mine.label[v]
    const wv = mine.weight[v]
    let best = -1
    let bestGain = 0
    for (let t = 0; t < nt; t++) {
      const l = touched[t]
      if (l === cur || acc[l] < BACO_DEFAULTS.secondaryRatio * acc[cur]) continue
      const g = acc[l] - gamma * wv * opp.volume[l] / total
      if (g > bestGain) { bestGain = g; best = l }
    }
    for (let t = 0; t < nt; t++) acc[touched[t]] = 0
    out[v] = best
  }
}

export function bacoAssignment (input: MappingInput): RowAssignment {
  const n = input.ids.length
  const share = input.dedicatedShare ?? BACO_DEFAULTS.dedicatedShare
  const k = Math.min(n, Math.floor(input.rows * share))
  const dedicated = frequencyOrder(rowCounts(input.matrix)).slice(0, k)
  const rows = new Int32Array(2 * n).fill(-1)
  for (let r = 0; r < k; r++) rows[2 * dedicated[r]] = r
  if (k === n) return { dedicatedRows: k, sharedRows: 0, rows }
  const budget = Math.max(1, input.rows - k)
  const { primary, second } = bacoLabels(input, budget, dedicated, input.secondary ?? false)
  // Labels that lost every member leave no row behind: the table uses K + (labels in use) rows.
  const compact = new Int32Array(budget).fill(-1)
  let used = 0
  for (let v = 0; v < n; v++) if (rows[2 * v] === -1 && compact[primary[v]] === -1) compact[primary[v]] = used++
  for (let v = 0; v < n; v++) {
    if (rows[2 * v] !== -1) continue
    rows[2 * v] = k + compact[primary[v]]
    const s = second[v]
    if (s !== -1 && compact[s] !== -1) rows[2 * v + 1] = k + compact[s]
  }
  return { dedicatedRows: k, sharedRows: used, rows }
}
