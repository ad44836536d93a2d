/**
 * Deep Retrieval training (Gao et al., CIKM 2021): EM over the user model and the item-to-path
 * mapping. The user model reads the served model's user vector (normalized: inner-product order
 * does not depend on the query's length), so every user the service can give a vector to, folded
 * in from events included, can be searched. The mapping starts from a balanced hierarchical
 * k-means of the item vectors; then an E-step, and `rounds` times an M-step followed by an E-step,
 * so the final user model is trained on the final mapping.
 */
import type { DrNetwork, DrShape } from '../../search/deep-retrieval/network.js'
import { normalizeInput } from '../../search/deep-retrieval/network.js'
import { transposeCsr, type Csr } from '../csr.js'
import { createRng } from '../rng.js'
import { balancedHierarchicalPaths } from './balanced-kmeans.js'
import { EStep } from './e-step.js'
import { runMStep, userBeams, type MStepStats } from './m-step.js'
import { cloneNetwork, initNetwork } from './network-init.js'
import type { DeepRetrievalOptions } from './options.js'
import { teacherPairs, unionPairs } from './teacher-pairs.js'

export interface DeepRetrievalInput {
  readonly dimension: number
  /** users x dimension: the served model's user vectors. */
  readonly userVectors: Float32Array
  /** items x dimension. */
  readonly itemVectors: Float32Array
  /** The (user, item) training pairs, users x items. */
  readonly pairs: Csr
}

export interface DeepRetrievalModel {
  readonly network: DrNetwork
  /** items x J path keys (c_1 K^(D-1) + ... + c_D). */
  readonly itemKeys: Int32Array
  readonly stats: {
    readonly losses: readonly number[]
    readonly mSteps: readonly MStepStats[]
    readonly trainMs: number
    readonly initMs: number
  }
}

const MIN_BATCH_USERS = 4
const MAX_BATCH_USERS = 64

export function shapeOf (opts: DeepRetrievalOptions, dimension: number): DrShape {
  return { depth: opts.depth, width: opts.width, pathsPerItem: opts.pathsPerItem, embeddingDimension: opts.depth > 1 ? opts.embeddingDimension : 0, hidden: opts.hidden, inputDimension: dimension }
}

/**
 * `warmStart`: a structure trained on related vectors (the evaluated model, when the exported one
 * is refit on all interactions) to start from instead of k-means and fresh weights; its shape
 * must equal the options'.
 */
export function trainDeepRetrieval (input: DeepRetrievalInput, opts: DeepRetrievalOptions, log: (msg: string) => void = () => {}, warmStart?: Pick<DeepRetrievalModel, 'network' | 'itemKeys'>): DeepRetrievalModel {
  const t0 = performance.now()
  const n = input.dimension
  if (opts.pairs !== 'interactions') {
    const teacher = teacherPairs(input.userVectors, input.itemVectors, n, input.pairs, opts.teacherPerUser)
    log(`deep retrieval: ${teacher.indptr[teacher.rows]} teacher pairs (${Math.round(performance.now() - t0)} ms)`)
    input = { ...input, pairs: opts.pairs === 'teacher' ? teacher : unionPairs(input.pairs, teacher) }
  }
  const users = input.pairs.rows
  const items = input.pairs.cols
  const shape = shapeOf(opts, n)
  let paths = 1
  for (let d = 0; d < shape.depth; d++) paths *= shape.width
  if (warmStart && (JSON.stringify(warmStart.network.shape) !== JSON.stringify(shape) || warmStart.itemKeys.length !== items * shape.pathsPerItem)) {
    throw new RangeError('the warm start structure has another shape or catalog')
  }
  const itemKeys = warmStart
    ? Int32Array.from(warmStart.itemKeys)
    : balancedHierarchicalPaths(input.itemVectors, items, n, { depth: shape.depth, width: shape.width, pathsPerItem: shape.pathsPerItem, seed: opts.seed })
  const initMs = performance.now() - t0
  log(`deep retrieval: K=${shape.width} D=${shape.depth} J=${shape.pathsPerItem} hidden=${shape.hidden}: ${warmStart ? 'warm start' : 'k-means init'} ${Math.round(initMs)} ms`)

  const unit = new Float32Array(users * n)
  const active: number[] = []
  for (let u = 0; u < users; u++) {
    if (input.pairs.indptr[u + 1] === input.pairs.indptr[u]) continue
    if (normalizeInput(input.userVectors.subarray(u * n, (u + 1) * n), n, unit.subarray(u * n, (u + 1) * n))) active.push(u)
  }
  const activeUsers = Int32Array.from(active)
  const net = warmStart ? cloneNetwork(warmStart.network) : initNetwork(shape, opts.seed)
  const estep = new EStep(net, { learningRate: opts.learningRate, weightDecay: opts.weightDecay })
  const batchUsers = opts.batchUsers ?? Math.max(MIN_BATCH_USERS, Math.min(MAX_BATCH_USERS, Math.round(activeUsers.length / 256)))
  const rng = createRng(opts.seed ^ 0x68e31da4)
  const losses: number[] = []
  const eStep = (label: string): void => {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      shuffle(activeUsers, rng)
      let loss = 0
      let pairs = 0
      let batchPairs = 0
      for (let i = 0; i < activeUsers.length; i++) {
        const u = activeUsers[i]
        const from = input.pairs.indptr[u]
        const to = input.pairs.indptr[u + 1]
        loss += estep.accumulateUser(unit.subarray(u * n, (u + 1) * n), input.pairs.indices, from, to, itemKeys)
        batchPairs += to - from
        if ((i + 1) % batchUsers === 0 || i === activeUsers.length - 1) {
          estep.step(batchPairs)
          pairs += batchPairs
          batchPairs = 0
        }
      }
      losses.push(loss / Math.max(1, pairs))
      log(`deep retrieval: ${label} epoch ${epoch + 1}/${opts.epochs}: loss ${(loss / Math.max(1, pairs)).toFixed(4)} per pair (${Math.round(performance.now() - t0)} ms)`)
    }
  }

  const byItem = transposeCsr(input.pairs)
  const meanPerPath = Math.max(1, (items * shape.pathsPerItem) / paths)
  const penalty = opts.penalty ?? 1 / (4 * meanPerPath) ** 3
  const mSteps: MStepStats[] = []
  eStep('E-step 0')
  for (let round = 1; round <= opts.rounds; round++) {
    const beams = userBeams(net, estep.tables, unit, users, opts.mStepBeam)
    const stats = runMStep({
      net, tables: estep.tables, userVectors: unit, itemIndptr: byItem.indptr, itemUsers: byItem.indices, itemKeys,
      beam: opts.mStepBeam, candidatesPerItem: opts.candidatesPerItem, penalty, passes: opts.mStepPasses, seed: opts.seed + round,
    }, beams)
    mSteps.push(stats)
    log(`deep retrieval: M-step ${round}: ${stats.moved} item paths moved, ${stats.usedPaths} paths used, largest ${stats.largestPath} items (${Math.round(performance.now() - t0)} ms)`)
    eStep(`E-step ${round}`)
  }
  return { network: net, itemKeys, stats: { losses, mSteps, trainMs: performance.now() - t0, initMs } }
}

function shuffle (a: Int32Array, rng: ReturnType<typeof createRng>): void {
  for (let i = a.length - 1; i > 0; i--) {
    const r = Math.floor(rng.next() * (i + 1))
    const t = a[i]; a[i] = a[r]; a[r] = t
  }
}
