import { csrFromPairs, transposeCsr } from '../../../src/trainer/csr.js'
import type { MappingInput } from '../../../src/trainer/mappings/input.js'
import { createRng } from '../../../src/trainer/rng.js'

/**
 * A users x items graph with planted blocks: user u and item i are in block (index % blocks); each
 * user picks `perUser` items of its block, skewed to low indices (so frequencies differ), and
 * `noise` of its picks from anywhere.
 */
export function plantedInput (opts: { users: number, items: number, blocks: number, perUser: number, noise?: number, seed?: number }, side: 'user' | 'item', rows: number, extra: Partial<MappingInput> = {}): MappingInput {
  const rng = createRng(opts.seed ?? 1)
  const us: number[] = []
  const is: number[] = []
  const perBlock = Math.floor(opts.items / opts.blocks)
  for (let u = 0; u < opts.users; u++) {
    const b = u % opts.blocks
    for (let k = 0; k < opts.perUser; k++) {
      const anywhere = rng.next() < (opts.noise ?? 0)
      const j = Math.floor(perBlock * rng.next() ** 2)
      us.push(u)
      is.push(anywhere ? Math.floor(rng.next() * opts.items) : j * opts.blocks + b)
    }
  }
  const byUser = csrFromPairs(opts.users, opts.items, Int32Array.from(us), Int32Array.from(is))
  const byItem = transposeCsr(byUser)
  const [matrix, transpose] = side === 'user' ? [byUser, byItem] : [byItem, byUser]
  const ids = Array.from({ length: matrix.rows }, (_, i) => `${side}-${i}`)
  return { ids, matrix, transpose, rows, seed: 7, threads: 1, ...extra }
}
