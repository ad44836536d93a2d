/**
 * Binary codes for users and items, learned by discrete optimization.
 *
 * 1. Initialization from the real-valued solution: sign() of the factors when bits = dimension;
 *    otherwise a projection (top principal directions, or random semi-orthogonal for bits >
 *    dimension), optionally refined by ITQ (Gong and Lazebnik, CVPR 2011). On ml-latest-small
 *    ITQ gave no better start for the descent below (README.md), so it is off by default.
 * 2. Discrete coordinate descent (DCF, Zhang et al., SIGIR 2016) on the weighted implicit loss over
 *    all user-item pairs plus a distillation of the real model's scores (see dcd-kernel.ts),
 *    alternating user and item half-sweeps, with DCF's balance/decorrelation relaxation (small weight);
 *    the global scale a and offset c of the prediction a b.d + c are refit in closed form between
 *    half-sweeps.
 * 3. Threads: the parameter-server pattern of DCH (Chen et al., KDD 2018) on one machine. Codes,
 *    interactions and vectors live in SharedArrayBuffers; in each half-sweep the main thread and
 *    threads - 1 workers claim minibatches of rows asynchronously (worker-protocol.ts) and write
 *    their rows' new bits straight into the shared code matrix, with no locks. Because a row's
 *    subproblem only reads the other side's codes (frozen in that half-sweep) and statistics
 *    computed between half-sweeps, the result does not depend on who took which minibatch: any
 *    thread count gives the same bits (tolerance across runs: zero).
 */
import { Worker } from 'node:worker_threads'
import { z } from 'zod'
import type { Csr } from '../csr.js'
import { csrFromPairs, transposeCsr } from '../csr.js'
import { createScratch, updateRows, type HalfSweepParams, type SideBuffers } from './dcd-kernel.js'
import { crossProduct, polarFactor, ridgeSolve, symmetricEigen, symmetricFunction } from './linalg.js'
import { packCodes, signCodes } from '../../bundle-format/codes.js'
import { CONTROL_BYTES, DONE, FLIPS, work, type WorkerInit, type WorkerRun } from './worker-protocol.js'
import { createRng as createSeededRng } from '../rng.js'
import { createModuleWorker } from '../../worker-module.js'

export interface LearnCodesInput {
  users: number; items: number; dimension: number; bits: 32 | 64 | 128
  /** users x dimension: the trained real-valued user vectors. */
  userVectors: Float32Array
  /** items x dimension. */
  itemVectors: Float32Array
  /** users x items training interactions (value = confidence weight or 1). */
  train: Csr
  seed: number; threads: number
  log?: (msg: string) => void
  /** Overrides of DEFAULT_CODE_OPTIONS (for experiments; the defaults are the measured choice). */
  options?: Partial<z.input<typeof CodeLearningOptionsSchema>>
}

export interface LearnedCodes {
  /** users x bits/8, packed: bit j in byte j >> 3 at position j & 7 (LSB first), 1 = +1, 0 = -1. */
  userCodes: Uint8Array
  itemCodes: Uint8Array
  /** dimension x bits row-major; sign(v P) approximates a user's code from its vector. */
  userCodeProjection: Float32Array | null
}

/** Rows sampled for the ITQ rotation. */
export const ITQ_MAX_ROWS = 4096

const count = (max: number) => z.number().int().min(0).max(max)
const weight = z.number().min(0).refine(Number.isFinite, 'finite')

/** Defaults are the measured choice on ml-latest-small (README.md in this folder, bench/codes). */
export const CodeLearningOptionsSchema = z.object({
  /**
   * ITQ iterations for the initial rotation. 0 with bits = dimension: plain sign() of the raw
   * vectors (the baseline); 0 otherwise: the principal (bits < dimension) or a random semi-orthogonal
   * (bits > dimension) projection without refinement.
   */
  itqIterations: count(1000).default(0),
  /** DCD sweeps (each a user half-sweep then an item half-sweep); 0 keeps the initialization. */
  sweeps: count(1000).default(8),
  /** Coordinate passes over a row's bits per half-sweep (stops early when nothing flips). */
  passes: count(1000).default(3),
  /** Weight of each unobserved pair. */
  w0: weight.default(1),
  /** Observed weight is 1 + conf * value. */
  conf: weight.default(3),
  /** Balance/decorrelation strength (DCF's alpha = beta); 0 disables it. */
  balance: weight.default(0.02),
  /** Per-pair weight of the distillation loss (real scores over all pairs), relative to w0 = 1; 0 disables. */
  distill: weight.default(3),
  /** Ridge strength for the user-code projection, relative to the mean diagonal of U^T U. */
  projectionRidge: z.number().positive().default(0.01),
  /**
   * Ranking distillation (Tang and Wang, KDD 2018): each user's top-k unseen items under the real
   * model join the interactions as positives of value `teacherValue`. 0 disables it.
   */
  teacherTopK: count(10_000).default(20),
  teacherValue: weight.default(2),
  /** Above this many user x item pairs the teacher's exhaustive scoring is skipped (cost). */
  teacherMaxPairs: z.number().int().min(0).default(50_000_000),
  /** Rows per minibatch claimed by a worker. */
  batch: z.number().int().min(1).default(16),
  /** Start only when every worker has loaded (tests: so that workers surely take rows). */
  waitForWorkers: z.boolean().default(false),
}).strict()

export type CodeLearningOptions = z.infer<typeof CodeLearningOptionsSchema>

export const DEFAULT_CODE_OPTIONS: CodeLearningOptions = CodeLearningOptionsSchema.parse({})

/** The trainer's seeded mulberry32 stream, as a plain function (the codes' tests draw from it too). */
export function createRng (seed: number): () => number {
  return createSeededRng(seed).next
}

function gaussian (next: () => number): number {
  const u = Math.max(next(), 1e-12)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next())
}

/**
 * ITQ over users and items together: Z = row-normalized [U; V], R (dimension x bits) with
 * orthonormal columns (bits <= dimension, started from the top principal directions) or rows
 * (bits > dimension, started random), alternating B = sign(Z R) and R = polar(Z^T B).
 */
export function itqRotation (userVectors: Float32Array, itemVectors: Float32Array, users: number, items: number, dim: number, bits: number, iterations: number, seed: number, maxRows = ITQ_MAX_ROWS): Float64Array {
  const next = createRng(seed)
  // Each ITQ iteration costs O(rows x dim x bits): a seeded sample of rows bounds it (measured on
  // ml-latest-small, 10,334 rows: 20 full iterations took 15-20 s on the shared 2-core machine).
  const all = users + items
  const order = Int32Array.from({ length: all }, (_, k) => k)
  const n = Math.min(all, maxRows)
  if (n < all) {
    for (let k = 0; k < n; k++) {
      const j = k + Math.floor(next() * (all - k))
      const t = order[k]!; order[k] = order[j]!; order[j] = t
    }
  }
  const z = new Float64Array(n * dim)
  for (let s = 0; s < n; s++) {
    const r = order[s]!
    const src = r < users ? userVectors : itemVectors
    const o = (r < users ? r : r - users) * dim
    let norm = 0
    for (let a = 0; a < dim; a++) norm += src[o + a]! * src[o + a]!
    norm = norm > 0 ? 1 / Math.sqrt(norm) : 0
    for (let a = 0; a < dim; a++) z[s * dim + a] = src[o + a]! * norm
  }
  const random = new Float64Array(dim * bits)
  for (let k = 0; k < random.length; k++) random[k] = gaussian(next)
  let rot: Float64Array
  if (bits <= dim) {
    const { values, vectors } = symmetricEigen(crossProduct(z, z, n, dim, dim), dim)
    const order = Array.from(values.keys()).sort((x, y) => values[y]! - values[x]! || x - y)
    const small = polarFactor(random.subarray(0, bits * bits), bits, bits)
    rot = new Float64Array(dim * bits)
    for (let a = 0; a < dim; a++) {
      for (let j = 0; j < bits; j++) {
        let s = 0
        for (let t = 0; t < bits; t++) s += vectors[a * dim + order[t]!]! * small[t * bits + j]!
        rot[a * bits + j] = s
      }
    }
  } else {
    rot = polarFactor(random, dim, bits)
  }
  const proj = new Float64Array(n * bits)
  for (let it = 0; it < iterations; it++) {
    project(z, rot, n, dim, bits, proj)
    for (let k = 0; k < proj.length; k++) proj[k] = proj[k]! >= 0 ? 1 : -1
    rot = polarFactor(crossProduct(z, proj, n, dim, bits), dim, bits)
  }
  return rot
}

function project (x: ArrayLike<number>, rot: Float64Array, rows: number, dim: number, bits: number, out: Float64Array): void {
  out.fill(0)
  for (let r = 0; r < rows; r++) {
    for (let a = 0; a < dim; a++) {
      const v = x[r * dim + a]!
      if (v === 0) continue
      const ro = a * bits
      const oo = r * bits
      for (let j = 0; j < bits; j++) out[oo + j]! += v * rot[ro + j]!
    }
  }
}

export interface SideStats {
  gram: Float64Array
  sum: Float64Array
  /** bits x dim: sum_j d_j v_j^T. */
  cross: Float64Array
  mean: Float64Array
  whiten: Float64Array
}

export function sideStats (codes: Int8Array, vectors: Float32Array, rows: number, bits: number, dim: number, needCross: boolean, needWhiten: boolean): SideStats {
  const sum = new Float64Array(bits)
  for (let r = 0; r < rows; r++) for (let k = 0; k < bits; k++) sum[k]! += codes[r * bits + k]!
  const stats: SideStats = {
    gram: crossProduct(codes, codes, rows, bits, bits),
    sum,
    mean: new Float64Array(bits),
    whiten: new Float64Array(0),
    cross: needCross ? crossProduct(codes, vectors, rows, bits, dim) : new Float64Array(0),
  }
  finishStats(stats, rows, bits, needWhiten)
  return stats
}

function finishStats (stats: SideStats, rows: number, bits: number, needWhiten: boolean): void {
  for (let k = 0; k < bits; k++) stats.mean[k] = stats.sum[k]! / rows
  if (!needWhiten) return
  const centred = new Float64Array(bits * bits)
  for (let k = 0; k < bits; k++) for (let l = 0; l < bits; l++) centred[k * bits + l] = stats.gram[k * bits + l]! - rows * stats.mean[k]! * stats.mean[l]!
  stats.whiten = symmetricFunction(centred, bits, (x) => 1 / Math.sqrt(x), 1e-8)
}

/**
 * Brings `stats` from the codes in `prev` to those in `codes`, touching only rows that changed, and
 * copies them into `prev`. After the first sweeps few rows change (measured on ml-latest-small:
 * 128k item bits flip in sweep 1, under 10k from sweep 4), while recomputing B^T B and B^T V costs
 * rows x bits x (bits + dim) every half-sweep. Returns the number of changed rows.
 */
export function updateSideStats (stats: SideStats, prev: Int8Array, codes: Int8Array, vectors: Float32Array, rows: number, bits: number, dim: number, needCross: boolean, needWhiten: boolean): number {
  let changed = 0
  const { gram, sum, cross } = stats
  const flipped = new Int32Array(bits)
  for (let r = 0; r < rows; r++) {
    const o = r * bits
    let k0 = -1
    for (let k = 0; k < bits; k++) if (codes[o + k] !== prev[o + k]) { k0 = k; break }
    if (k0 < 0) continue
    changed++
    for (let k = k0; k < bits; k++) {
      const bn = codes[o + k]!
      if (bn === prev[o + k]) continue
      sum[k]! += 2 * bn
      if (needCross) {
        const vo = r * dim
        const co = k * dim
        for (let q = 0; q < dim; q++) cross[co + q]! += 2 * bn * vectors[vo + q]!
      }
    }
    // n n^T - p p^T = n d^T + d n^T - d d^T with d = n - p nonzero on the flipped bits only:
    // O(flipped x bits) instead of O(bits^2) per changed row.
    let nd = 0
    for (let k = k0; k < bits; k++) if (codes[o + k] !== prev[o + k]) flipped[nd++] = k
    for (let f = 0; f < nd; f++) {
      const k = flipped[f]!
      const dk = 2 * codes[o + k]!
      const go = k * bits
      for (let l = 0; l < bits; l++) {
        const t = dk * codes[o + l]!
        gram[go + l]! += t
        gram[l * bits + k]! += t
      }
      for (let g = 0; g < nd; g++) {
        const m = flipped[g]!
        gram[go + m]! -= dk * 2 * codes[o + m]!
      }
    }
    for (let k = 0; k < bits; k++) prev[o + k] = codes[o + k]!
  }
  finishStats(stats, rows, bits, needWhiten)
  return changed
}

/**
 * Closed-form weighted least squares for the prediction a h + c over all pairs (h = b.d), from
 * sufficient statistics: the unobserved background through the Gram matrices, observed pairs
 * exactly. Returns the weighted loss at the fitted (a, c) too.
 */
function packWords (codes: Int8Array, rows: number, bits: number): Int32Array {
  const words = bits >> 5
  const out = new Int32Array(rows * words)
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < bits; k++) if (codes[r * bits + k]! > 0) out[r * words + (k >> 5)]! |= 1 << (k & 31)
  }
  return out
}

function popcount32 (x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24
}

export function fitScale (train: Csr, userCodes: Int8Array, itemCodes: Int8Array, bits: number, us: SideStats, is: SideStats, w0: number, conf: number): { a: number, c: number, loss: number } {
  let sW = w0 * train.rows * train.cols
  let sH = 0
  for (let k = 0; k < bits; k++) sH += us.sum[k]! * is.sum[k]!
  sH *= w0
  let sHH = 0
  for (let k = 0; k < bits * bits; k++) sHH += us.gram[k]! * is.gram[k]!
  sHH *= w0
  let sR = 0; let sRH = 0
  // b.d = bits - 2 popcount(b xor d) on packed words: ~10x fewer operations than the +-1 dot product.
  const words = bits >> 5
  const uw = packWords(userCodes, train.rows, bits)
  const iw = packWords(itemCodes, train.cols, bits)
  for (let u = 0; u < train.rows; u++) {
    for (let p = train.indptr[u]!; p < train.indptr[u + 1]!; p++) {
      const i = train.indices[p]!
      const w = 1 + conf * train.values[p]!
      let diff = 0
      for (let q = 0; q < words; q++) diff += popcount32(uw[u * words + q]! ^ iw[i * words + q]!)
      const h = bits - 2 * diff
      sW += w - w0; sH += (w - w0) * h; sHH += (w - w0) * h * h
      sR += w; sRH += w * h
    }
  }
  const det = sHH * sW - sH * sH
  let a = det > 0 ? (sRH * sW - sH * sR) / det : 0
  // A non-positive scale would invert the ranking; keep a small positive one so DCD can recover.
  if (!(a > 0)) a = 1 / (bits * 4)
  const c = (sR - a * sH) / sW
  const loss = sR - 2 * (a * sRH + c * sR) + a * a * sHH + 2 * a * c * sH + c * c * sW
  return { a, c, loss }
}

/**
 * The scale kappa that best maps the real scores u.v onto the implicit targets under the same
 * weights (min over kappa of sum_all w (y - kappa u.v)^2, Gram trick for the unobserved pairs), so
 * the distillation targets kappa u.v live on the 0/1 scale of the data whatever the real model's
 * scale (iALS scores are near it, BPR's are not).
 */
export function realScoreScale (train: Csr, userVectors: Float32Array, itemVectors: Float32Array, dim: number, w0: number, conf: number): number {
  const uu = crossProduct(userVectors, userVectors, train.rows, dim, dim)
  const vv = crossProduct(itemVectors, itemVectors, train.cols, dim, dim)
  let den = 0
  for (let k = 0; k < dim * dim; k++) den += uu[k]! * vv[k]!
  den *= w0
  let num = 0
  for (let u = 0; u < train.rows; u++) {
    for (let p = train.indptr[u]!; p < train.indptr[u + 1]!; p++) {
      const i = train.indices[p]!
      const w = 1 + conf * train.values[p]!
      let s = 0
      for (let q = 0; q < dim; q++) s += userVectors[u * dim + q]! * itemVectors[i * dim + q]!
      num += w * s
      den += (w - w0) * s * s
    }
  }
  return den > 0 && num > 0 ? num / den : 1
}

export function halfSweepParams (other: SideStats, own: SideStats, ownRows: number, fit: { a: number, c: number }, o: CodeLearningOptions, kappa = 1): HalfSweepParams {
  const { a, c } = fit
  const distillWeight = o.distill
  const qScale = (o.w0 + distillWeight) * a * a
  const qShared = other.gram.map((x) => x * qScale)
  const gConst = other.sum.map((x) => -(o.w0 + distillWeight) * a * c * x)
  return {
    qShared,
    gConst,
    a,
    c,
    w0: o.w0,
    conf: o.conf,
    distill: o.distill > 0 ? other.cross.map((x) => x * distillWeight * a * kappa) : null,
    alpha: o.balance,
    mean: own.mean,
    whiten: own.whiten,
    sqrtN: Math.sqrt(ownRows),
    passes: o.passes,
  }
}

interface Runner {
  run (side: 0 | 1, params: HalfSweepParams): Promise<number>
  /** Row updates done by the main thread and by all threads so far. */
  readonly rows: { main: number, all: number }
  close (): Promise<void>
}

function sharedCopy<T extends Int8Array | Int32Array | Float32Array> (src: T, make: (b: SharedArrayBuffer) => T): T {
  const out = make(new SharedArrayBuffer(Math.max(1, src.byteLength)))
  out.set(src)
  return out
}

function createCodesWorker (): Worker {
  return createModuleWorker(import.meta.url, 'codes-worker')
}

/**
 * threads - 1 workers plus the main thread, all claiming minibatches of rows (worker-protocol.ts).
 * The main thread would otherwise sit idle, and it never waits for a worker that has not claimed
 * anything: a worker costs a module load (~0.5-1 s under tsx, more on a loaded machine), and
 * waiting for it at every half-sweep barrier made threads = 2 slower than 1 (measured).
 */
async function createWorkerRunner (sides: [SideBuffers, SideBuffers], threads: number, capacity: number, batch: number, waitForWorkers: boolean): Promise<Runner> {
  const control = new SharedArrayBuffer(CONTROL_BYTES)
  const claim = new BigInt64Array(control, 0, 1)
  const slots = new Int32Array(control)
  const scratch = createScratch(sides[0].bits, capacity)
  const workers = Array.from({ length: threads - 1 }, createCodesWorker)
  // A worker that fails (e.g. its module does not load) must fail the run, not the process.
  let failure: Error | null = null
  let closing = false
  for (const w of workers) {
    w.on('error', (err) => { failure ??= err })
    w.on('exit', (code) => { if (!closing) failure ??= new Error(`codes worker exited with code ${code}`) })
  }
  const init: WorkerInit = { type: 'init', users: sides[0], items: sides[1], control, capacity }
  const ready = workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve())))
  for (const w of workers) w.postMessage(init)
  if (waitForWorkers) {
    await Promise.race([Promise.all(ready), new Promise<void>((_resolve, reject) => {
      const check = setInterval(() => { if (failure !== null) { clearInterval(check); reject(failure) } }, 20)
      void Promise.all(ready).then(() => clearInterval(check))
    })])
  }
  let generation = 0
  const rows = { main: 0, all: 0 }
  return {
    rows,
    async run (side, params) {
      if (failure !== null) throw failure
      generation++
      Atomics.store(slots, DONE, 0)
      Atomics.store(slots, FLIPS, 0)
      Atomics.store(claim, 0, BigInt(generation) << 32n)
      const msg: WorkerRun = { type: 'run', generation, side, params, batch }
      for (const w of workers) w.postMessage(msg)
      const own = sides[side]
      work(own, control, generation, batch, (start, end) => { rows.main += end - start; return updateRows(own, params, start, end, scratch) })
      rows.all += own.rows
      // Rows still in flight in a worker: wait without blocking the event loop, so errors arrive.
      for (;;) {
        const done = Atomics.load(slots, DONE)
        if (done >= own.rows) break
        if (failure !== null) throw failure
        const waited = waitAsync(slots, DONE, done, 50)
        if (waited.async) await waited.value
      }
      return Atomics.load(slots, FLIPS)
    },
    async close () {
      closing = true
      await Promise.all(workers.map((w) => w.terminate()))
    },
  }
}

type WaitAsync = (array: Int32Array, index: number, value: number, timeout: number) => { async: false, value: string } | { async: true, value: Promise<string> }
// Atomics.waitAsync is in Node >= 16 but in TypeScript's lib only from ES2024.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync

function createInlineRunner (sides: [SideBuffers, SideBuffers], capacity: number): Runner {
  const scratch = createScratch(sides[0].bits, capacity)
  const rows = { main: 0, all: 0 }
  return {
    rows,
    async run (side, params) {
      rows.main += sides[side].rows
      rows.all += sides[side].rows
      return updateRows(sides[side], params, 0, sides[side].rows, scratch)
    },
    async close () {},
  }
}

function maxRow (m: Csr): number {
  let max = 0
  for (let r = 0; r < m.rows; r++) max = Math.max(max, m.indptr[r + 1]! - m.indptr[r]!)
  return max
}

/**
 * The interactions plus, for each user, its `k` best-scored items under the real model among those
 * it has not interacted with, as entries of value `value`.
 */
export function withTeacherPositives (train: Csr, userVectors: Float32Array, itemVectors: Float32Array, dim: number, k: number, value: number): Csr {
  const nnz = train.indptr[train.rows]!
  const extra = Math.min(k, train.cols) * train.rows
  const rowIdx = new Int32Array(nnz + extra)
  const colIdx = new Int32Array(nnz + extra)
  const values = new Float32Array(nnz + extra)
  let n = 0
  const scores = new Float64Array(train.cols)
  const top = new Int32Array(k)
  for (let u = 0; u < train.rows; u++) {
    for (let p = train.indptr[u]!; p < train.indptr[u + 1]!; p++) { rowIdx[n] = u; colIdx[n] = train.indices[p]!; values[n++] = train.values[p]! }
    const uo = u * dim
    for (let i = 0; i < train.cols; i++) {
      let s = 0
      const io = i * dim
      for (let q = 0; q < dim; q++) s += userVectors[uo + q]! * itemVectors[io + q]!
      scores[i] = s
    }
    for (let p = train.indptr[u]!; p < train.indptr[u + 1]!; p++) scores[train.indices[p]!] = -Infinity
    // Partial selection of the k best (ties: lower item first), k is small next to the catalog.
    let m = 0
    for (let i = 0; i < train.cols; i++) {
      const s = scores[i]!
      if (s === -Infinity || (m === k && s <= scores[top[k - 1]!]!)) continue
      let q = m < k ? m++ : k - 1
      while (q > 0 && scores[top[q - 1]!]! < s) { top[q] = top[q - 1]!; q-- }
      top[q] = i
    }
    for (let r = 0; r < m; r++) { rowIdx[n] = u; colIdx[n] = top[r]!; values[n++] = value }
  }
  return csrFromPairs(train.rows, train.cols, rowIdx, colIdx, values, n)
}

/** Ridge regression of the +-1 codes on the vectors: P = (U^T U + lambda I)^{-1} U^T B. */
export function fitCodeProjection (vectors: Float32Array, codes: Int8Array, rows: number, dim: number, bits: number, relativeRidge: number): Float32Array {
  const utu = crossProduct(vectors, vectors, rows, dim, dim)
  let trace = 0
  for (let a = 0; a < dim; a++) trace += utu[a * dim + a]!
  const lambda = Math.max(1e-9, relativeRidge * trace / dim)
  return Float32Array.from(ridgeSolve(utu, crossProduct(vectors, codes, rows, dim, bits), dim, bits, lambda))
}

export async function learnCodes (input: LearnCodesInput): Promise<LearnedCodes> {
  const o = CodeLearningOptionsSchema.parse(input.options ?? {})
  const { users, items, bits, dimension: dim } = input
  const log = input.log ?? (() => {})
  if (![32, 64, 128].includes(bits)) throw new RangeError(`bits must be 32, 64 or 128, got ${bits}`)
  if (input.userVectors.length !== users * dim || input.itemVectors.length !== items * dim) throw new RangeError('vector arrays do not match users/items x dimension')
  if (input.train.rows !== users || input.train.cols !== items) throw new RangeError(`train is ${input.train.rows} x ${input.train.cols}, expected ${users} x ${items}`)
  const started = performance.now()
  const threads = Math.max(1, Math.floor(input.threads))

  let userInit: Int8Array
  let itemInit: Int8Array
  if (o.itqIterations === 0 && bits === dim) {
    // sign() of the raw factors: the baseline, and (measured, see bench/codes) as good a start for DCD.
    userInit = signCodes(input.userVectors, users, bits); itemInit = signCodes(input.itemVectors, items, bits)
  } else {
    const rot = itqRotation(input.userVectors, input.itemVectors, users, items, dim, bits, o.itqIterations, input.seed)
    const up = new Float64Array(users * bits); project(input.userVectors, rot, users, dim, bits, up)
    const ip = new Float64Array(items * bits); project(input.itemVectors, rot, items, dim, bits, ip)
    userInit = signCodes(up, users, bits); itemInit = signCodes(ip, items, bits)
  }
  log(`codes: init (itq ${o.itqIterations} iterations) ${Math.round(performance.now() - started)} ms`)

  const shared = threads > 1
  const mkI8 = (b: SharedArrayBuffer): Int8Array => new Int8Array(b)
  const mkI32 = (b: SharedArrayBuffer): Int32Array => new Int32Array(b)
  const mkF32 = (b: SharedArrayBuffer): Float32Array => new Float32Array(b)
  const userCodes = shared ? sharedCopy(userInit, mkI8) : userInit
  const itemCodes = shared ? sharedCopy(itemInit, mkI8) : itemInit
  let train = input.train
  if (o.teacherTopK > 0 && o.teacherValue > 0) {
    if (users * items <= o.teacherMaxPairs) {
      const t = performance.now()
      train = withTeacherPositives(input.train, input.userVectors, input.itemVectors, dim, o.teacherTopK, o.teacherValue)
      log(`codes: teacher top-${o.teacherTopK} positives added (${train.indptr[users]! - input.train.indptr[users]!}) in ${Math.round(performance.now() - t)} ms`)
    } else {
      log(`codes: ${users} x ${items} pairs exceed teacherMaxPairs ${o.teacherMaxPairs}; no teacher positives`)
    }
  }
  const byItem = transposeCsr(train)
  const share = <T extends Int8Array | Int32Array | Float32Array>(x: T, make: (b: SharedArrayBuffer) => T): T => shared ? sharedCopy(x, make) : x
  const userVectors = share(input.userVectors, mkF32)
  const itemVectors = share(input.itemVectors, mkF32)
  const sides: [SideBuffers, SideBuffers] = [
    { rows: users, bits, dim, codes: userCodes, otherCodes: itemCodes, indptr: share(train.indptr, mkI32), indices: share(train.indices, mkI32), values: share(train.values, mkF32), vectors: userVectors },
    { rows: items, bits, dim, codes: itemCodes, otherCodes: userCodes, indptr: share(byItem.indptr, mkI32), indices: share(byItem.indices, mkI32), values: share(byItem.values, mkF32), vectors: itemVectors },
  ]
  const capacity = Math.max(maxRow(train), maxRow(byItem), 1)
  const runner = shared ? await createWorkerRunner(sides, threads, capacity, o.batch, o.waitForWorkers) : createInlineRunner(sides, capacity)
  try {
    const needCross = o.distill > 0
    const kappa = needCross ? realScoreScale(input.train, input.userVectors, input.itemVectors, dim, o.w0, o.conf) : 1
    if (needCross) log(`codes: real score scale kappa ${kappa.toExponential(3)}`)
    const needWhiten = o.balance > 0
    const us = sideStats(userCodes, userVectors, users, bits, dim, needCross, needWhiten)
    const is = sideStats(itemCodes, itemVectors, items, bits, dim, needCross, needWhiten)
    const userPrev = Int8Array.from(userCodes)
    const itemPrev = Int8Array.from(itemCodes)
    let kernelMs = 0
    for (let sweep = 0; sweep < o.sweeps; sweep++) {
      const fit = fitScale(train, userCodes, itemCodes, bits, us, is, o.w0, o.conf)
      let t = performance.now()
      const userFlips = await runner.run(0, halfSweepParams(is, us, users, fit, o, kappa))
      kernelMs += performance.now() - t
      updateSideStats(us, userPrev, userCodes, userVectors, users, bits, dim, needCross, needWhiten)
      const fit2 = fitScale(train, userCodes, itemCodes, bits, us, is, o.w0, o.conf)
      t = performance.now()
      const itemFlips = await runner.run(1, halfSweepParams(us, is, items, fit2, o, kappa))
      kernelMs += performance.now() - t
      updateSideStats(is, itemPrev, itemCodes, itemVectors, items, bits, dim, needCross, needWhiten)
      log(`codes: sweep ${sweep + 1}/${o.sweeps} loss ${fit.loss.toFixed(1)} a ${fit.a.toExponential(3)} c ${fit.c.toFixed(4)} flips users ${userFlips} items ${itemFlips}; ${Math.round(performance.now() - started)} ms (half-sweeps ${Math.round(kernelMs)} ms)`)
      if (userFlips + itemFlips === 0) break
    }
    log(`codes: ${threads} thread(s), the main thread updated ${runner.rows.main} of ${runner.rows.all} rows`)
  } finally {
    await runner.close()
  }
  const finalUser = Int8Array.from(userCodes)
  const finalItem = Int8Array.from(itemCodes)
  return {
    userCodes: packCodes(finalUser, users, bits),
    itemCodes: packCodes(finalItem, items, bits),
    userCodeProjection: users > 0 ? fitCodeProjection(input.userVectors, finalUser, users, dim, bits, o.projectionRidge) : null,
  }
}
