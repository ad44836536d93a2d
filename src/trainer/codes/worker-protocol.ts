/**
 * Shared control block of the code learner's thread pool and the messages to its workers.
 *
 * Work is handed out by claims on one 64-bit word holding (generation << 32 | next row): a single
 * compare-and-swap both checks that the claim belongs to the current half-sweep and takes the rows,
 * so a worker that reads a half-sweep's message late (e.g. while its module was still loading) can
 * never take rows of the next half-sweep with stale parameters, and nobody waits for it.
 */
import type { HalfSweepParams, SideBuffers } from './dcd-kernel.js'

/** Int32 slots after the 64-bit claim word. */
export const DONE = 2
export const FLIPS = 3
export const CONTROL_BYTES = 16

/** Typed arrays inside are views of SharedArrayBuffers, so workers see the same memory. */
export interface WorkerInit {
  readonly type: 'init'
  readonly users: SideBuffers
  readonly items: SideBuffers
  readonly control: SharedArrayBuffer
  readonly capacity: number
}

export interface WorkerRun {
  readonly type: 'run'
  readonly generation: number
  /** 0 = user rows, 1 = item rows. */
  readonly side: 0 | 1
  readonly params: HalfSweepParams
  /** Rows per claim. */
  readonly batch: number
}

/** Claims up to `batch` rows of half-sweep `generation`; -1 when it is over or superseded. */
export function claimRows (claim: BigInt64Array, generation: number, rows: number, batch: number): number {
  const gen = BigInt(generation) << 32n
  for (;;) {
    const v = Atomics.load(claim, 0)
    if ((v & ~0xffffffffn) !== gen) return -1
    const start = Number(v & 0xffffffffn)
    if (start >= rows) return -1
    if (Atomics.compareExchange(claim, 0, v, v + BigInt(batch)) === v) return start
  }
}

/** Runs claims until none are left, publishing progress in the control block after each batch. */
export function work (side: SideBuffers, control: SharedArrayBuffer, generation: number, batch: number, update: (start: number, end: number) => number): void {
  const claim = new BigInt64Array(control, 0, 1)
  const slots = new Int32Array(control)
  for (;;) {
    const start = claimRows(claim, generation, side.rows, batch)
    if (start < 0) return
    const end = Math.min(side.rows, start + batch)
    const flips = update(start, end)
    Atomics.add(slots, FLIPS, flips)
    Atomics.add(slots, DONE, end - start)
    Atomics.notify(slots, DONE)
  }
}
