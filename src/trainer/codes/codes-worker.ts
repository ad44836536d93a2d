/**
 * Worker side of the code learner's thread pool: owns nothing, updates the rows it claims in the
 * shared code matrices (see learn-codes.ts for why this is deterministic, worker-protocol.ts for
 * the claims).
 */
import { parentPort } from 'node:worker_threads'
import { createScratch, updateRows, type SideBuffers } from './dcd-kernel.js'
import { work, type WorkerInit, type WorkerRun } from './worker-protocol.js'

if (parentPort === null) throw new Error('codes-worker must run in a worker thread')
let sides: [SideBuffers, SideBuffers] | null = null
let control: SharedArrayBuffer | null = null
let scratch: ReturnType<typeof createScratch> | null = null

parentPort.on('message', (msg: WorkerInit | WorkerRun) => {
  if (msg.type === 'init') {
    sides = [msg.users, msg.items]
    control = msg.control
    scratch = createScratch(msg.users.bits, msg.capacity)
    parentPort?.postMessage('ready')
    return
  }
  if (sides === null || control === null || scratch === null) throw new Error('codes-worker: run before init')
  const side = sides[msg.side]
  const s = scratch
  work(side, control, msg.generation, msg.batch, (start, end) => updateRows(side, msg.params, start, end, s))
})
