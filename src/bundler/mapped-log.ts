/**
 * An interaction log (read by the trainer's streaming reader) mapped onto the rows of external
 * factor matrices: users x items, each pair once per interaction (csrFromPairs sums repeats). Ids
 * the factors do not cover are counted and left out: Spark's ALS and most PyTorch pipelines drop
 * rare ids before training, so a log naming them is normal, not an error.
 */
import { csrFromPairs, type Csr } from '../trainer/csr.js'
import { readInteractions, type ReadOptions } from '../trainer/read-interactions.js'

export interface MappedLog {
  readonly matrix: Csr
  /** Interactions whose user and item both have factors. */
  readonly used: number
  /** Interactions left out because their user or item has no factors. */
  readonly unmapped: number
  readonly lines: number
  readonly badRows: number
}

function rowsOf (ids: readonly string[], rowOf: ReadonlyMap<string, number>): Int32Array {
  return Int32Array.from(ids, (id) => rowOf.get(id) ?? -1)
}

export async function readMappedLog (path: string, userRow: ReadonlyMap<string, number>, itemRow: ReadonlyMap<string, number>, read: ReadOptions = {}): Promise<MappedLog> {
  const log = await readInteractions(path, read)
  const users = rowsOf(log.userIds, userRow)
  const items = rowsOf(log.itemIds, itemRow)
  const r = new Int32Array(log.count)
  const c = new Int32Array(log.count)
  let n = 0
  for (let k = 0; k < log.count; k++) {
    const u = users[log.users[k]]
    const i = items[log.items[k]]
    if (u < 0 || i < 0) continue
    r[n] = u
    c[n] = i
    n++
  }
  return { matrix: csrFromPairs(userRow.size, itemRow.size, r, c, undefined, n), used: n, unmapped: log.count - n, lines: log.dataLines, badRows: log.badRows }
}
