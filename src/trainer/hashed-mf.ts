/**
 * Trains implicit MF whose user and item tables are both hybrid-hashed (see ials-core.ts for the
 * solver, table-layout.ts for the row assignment). With `threads` > 1 the sweeps run on
 * worker_threads over shared memory; with one thread the result is a pure function of the seed.
 */
import { Worker } from 'node:worker_threads'
import { transposeCsr, type Csr } from './csr.js'
import { balancedSlices, createScratch, refreshVectors, rowCosts, sweepRows, trainingLoss, type SideArrays, type SolverSettings } from './ials-core.js'
import { createRng } from './rng.js'
import type { TableLayout } from './table-layout.js'
import type { MfWorkerJob, MfWorkerModel } from './mf-worker.js'
import { createModuleWorker } from '../worker-module.js'

export interface MfOptions {
  readonly dimension: number
  readonly epochs: number
  readonly alpha: number
  readonly reg: number
  readonly regExponent: number
  readonly cgSteps: number
  readonly seed: number
  readonly threads: number
  /** Standard deviation of the initial rows, times 1/sqrt(dimension). */
  readonly initScale: number
  readonly onEpoch?: (info: { epoch: number, loss: number, elapsedMs: number }) => void
}

export const DEFAULT_MF_OPTIONS = {
  dimension: 64,
  epochs: 8,
  alpha: 2,
  reg: 0.002,
  regExponent: 1,
  cgSteps: 2,
  seed: 42,
  threads: 1,
  initScale: 0.1,
} as const satisfies MfOptions

export interface MfModel {
  readonly dimension: number
  readonly userLayout: TableLayout
  readonly itemLayout: TableLayout
  /** (K + B) x d tables, dedicated rows first. */
  readonly userParams: Float32Array
  readonly itemParams: Float32Array
  /** Every training id resolved through its table. */
  readonly userVectors: Float32Array
  readonly itemVectors: Float32Array
  readonly losses: number[]
  readonly trainMs: number
}

function shared<T extends Int32Array | Float32Array | Float64Array | Uint8Array> (src: T): T {
  const Ctor = src.constructor as { new (buf: SharedArrayBuffer): T, BYTES_PER_ELEMENT: number }
  const out = new Ctor(new SharedArrayBuffer(Math.max(1, src.length) * Ctor.BYTES_PER_ELEMENT))
  out.set(src as never)
  return out.length === src.length ? out : (out.subarray(0, src.length) as T)
}

function sharedF32 (n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(1, n) * 4)).subarray(0, n)
}

function sharedF64 (n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8)).subarray(0, n)
}

/**
 * A side's arrays as this thread uses them: read-only layout and interactions in ordinary memory
 * (V8 reads those faster than SharedArrayBuffer views), the trained table, resolved vectors and
 * Gram matrix in shared memory so workers see them.
 */
function sideArrays (layout: TableLayout, interactions: Csr, d: number, init: Float32Array): SideArrays {
  const params = sharedF32(layout.rows * d)
  params.set(init)
  return {
    ids: interactions.rows,
    rows: layout.rows,
    idRowCount: layout.idRowCount,
    idRows: layout.idRows,
    rowPtr: layout.rowPtr,
    rowIds: layout.rowIds,
    rowMult: layout.rowMult,
    params,
    vectors: sharedF32(interactions.rows * d),
    indptr: interactions.indptr,
    indices: interactions.indices,
    values: interactions.values,
    gram: sharedF64(d * d),
  }
}

/** The same side with its read-only arrays moved into shared memory, to hand to workers without a copy per worker. */
function forWorkers (side: SideArrays): SideArrays {
  return {
    ...side,
    idRowCount: shared(side.idRowCount),
    idRows: shared(side.idRows),
    rowPtr: shared(side.rowPtr),
    rowIds: shared(side.rowIds),
    rowMult: shared(side.rowMult),
    indptr: shared(side.indptr),
    indices: shared(side.indices),
    values: shared(side.values),
  }
}

function initRows (rows: number, d: number, scale: number, rng: ReturnType<typeof createRng>): Float32Array {
  const out = new Float32Array(rows * d)
  const s = scale / Math.sqrt(d)
  for (let k = 0; k < out.length; k++) out[k] = rng.normal() * s
  return out
}


/** Worker threads for the iALS sweeps, reusable across models (`trainHashedMf`'s `pool`). */
export class MfWorkerPool {
  private readonly workers: Worker[]
  constructor (count: number) {
    this.workers = Array.from({ length: count }, () => createModuleWorker(import.meta.url, 'mf-worker'))
  }

  get size (): number { return this.workers.length }

  send (index: number, msg: MfWorkerModel | MfWorkerJob): Promise<void> {
    const w = this.workers[index]
    return new Promise((resolve, reject) => {
      const onMessage = (): void => { w.off('error', onError); resolve() }
      const onError = (err: Error): void => { w.off('message', onMessage); reject(err) }
      w.once('message', onMessage)
      w.once('error', onError)
      w.postMessage(msg)
    })
  }

  async close (): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

/** Trains iALS through the given layouts on `train` (users x items). */
export async function trainHashedMf (train: Csr, userLayout: TableLayout, itemLayout: TableLayout, opts: MfOptions, sharedPool?: MfWorkerPool): Promise<MfModel> {
  const t0 = performance.now()
  const d = opts.dimension
  const rng = createRng(opts.seed)
  const settings: SolverSettings = { dimension: d, alpha: opts.alpha, reg: opts.reg, regExponent: opts.regExponent, cgSteps: opts.cgSteps }
  const user = sideArrays(userLayout, train, d, initRows(userLayout.rows, d, opts.initScale, rng))
  const item = sideArrays(itemLayout, transposeCsr(train), d, initRows(itemLayout.rows, d, opts.initScale, rng))
  const threads = Math.max(1, Math.floor(opts.threads))
  const ownPool = threads > 1 && sharedPool === undefined ? new MfWorkerPool(threads - 1) : null
  const pool = threads > 1 ? (sharedPool ?? ownPool) : null
  const parts = pool === null ? 1 : pool.size + 1
  const slices = {
    user: balancedSlices(rowCosts(user, settings), parts),
    item: balancedSlices(rowCosts(item, settings), parts),
  }
  const scratch = createScratch(d)
  const losses: number[] = []
  const halfSweep = async (name: 'user' | 'item'): Promise<void> => {
    const side = name === 'user' ? user : item
    const other = name === 'user' ? item : user
    const cut = slices[name]
    const pending = pool === null ? [] : cut.slice(1).map(([start, end], w) => pool.send(w, { kind: 'job', side: name, start, end }))
    sweepRows(side, other, cut[0][0], cut[0][1], settings, scratch)
    await Promise.all(pending)
    refreshVectors(side, d)
  }
  try {
    if (pool !== null) {
      const msg: MfWorkerModel = { kind: 'model', user: forWorkers(user), item: forWorkers(item), settings }
      await Promise.all(Array.from({ length: pool.size }, (_, w) => pool.send(w, msg)))
    }
    refreshVectors(user, d)
    refreshVectors(item, d)
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      await halfSweep('item')
      await halfSweep('user')
      const loss = opts.onEpoch ? trainingLoss(user, item, settings) : NaN
      losses.push(loss)
      opts.onEpoch?.({ epoch, loss, elapsedMs: performance.now() - t0 })
    }
  } finally {
    await ownPool?.close()
  }
  return {
    dimension: d,
    userLayout,
    itemLayout,
    userParams: Float32Array.from(user.params),
    itemParams: Float32Array.from(item.params),
    userVectors: Float32Array.from(user.vectors),
    itemVectors: Float32Array.from(item.vectors),
    losses,
    trainMs: performance.now() - t0,
  }
}
