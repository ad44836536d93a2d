/**
 * Worker side of the shared-memory iALS: all tables, vectors and Gram matrices live in
 * SharedArrayBuffers; the main thread hands out row slices per half-sweep and workers write their
 * rows in place, seeing each other's updates as they land (asynchronous, Hogwild-style, the
 * one-machine form of the parameter server in Chen et al., KDD 2018, section 4).
 */
import { parentPort } from 'node:worker_threads'
import { createScratch, localSide, sweepRows, type Scratch, type SideArrays, type SolverSettings } from './ials-core.js'

export interface MfWorkerModel { readonly kind: 'model', readonly user: SideArrays, readonly item: SideArrays, readonly settings: SolverSettings }
export interface MfWorkerJob { readonly kind: 'job', readonly side: 'user' | 'item', readonly start: number, readonly end: number }

// One pool serves several models in a run (the report trains five): a model message swaps the
// shared buffers, job messages sweep row slices of the current model.
let model: MfWorkerModel | null = null
let scratch: Scratch | null = null
parentPort!.on('message', (msg: MfWorkerModel | MfWorkerJob) => {
  if (msg.kind === 'model') {
    model = { ...msg, user: localSide(msg.user), item: localSide(msg.item) }
    scratch = createScratch(msg.settings.dimension)
    parentPort!.postMessage('ready')
    return
  }
  const side = msg.side === 'user' ? model!.user : model!.item
  const other = msg.side === 'user' ? model!.item : model!.user
  sweepRows(side, other, msg.start, msg.end, model!.settings, scratch!)
  parentPort!.postMessage('done')
})
