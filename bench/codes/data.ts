/**
 * Measurement-only loader for ml-latest-small and the trainer's split (per user, the latest 20% of
 * interactions by timestamp are test). The pipeline's own parser lives in src/trainer; this copy
 * keeps the codes bench independent of work in progress there.
 */
import { readFileSync } from 'node:fs'
import { csrFromPairs, type Csr } from '../../src/trainer/csr.js'

export interface SplitData {
  readonly users: number
  readonly items: number
  readonly train: Csr
  /** users x items, the held-out interactions. */
  readonly test: Csr
}

export function loadSplit (file: string, testShare = 0.2): SplitData {
  const lines = readFileSync(file, 'utf8').split('\n')
  const userIds = new Map<string, number>()
  const itemIds = new Map<string, number>()
  const perUser: { item: number, ts: number, line: number }[][] = []
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l]!
    if (line.length === 0) continue
    const [u, i, , t] = line.split(',')
    let ui = userIds.get(u!)
    if (ui === undefined) { ui = userIds.size; userIds.set(u!, ui); perUser.push([]) }
    let ii = itemIds.get(i!)
    if (ii === undefined) { ii = itemIds.size; itemIds.set(i!, ii) }
    perUser[ui]!.push({ item: ii, ts: Number(t), line: l })
  }
  const tr: [number[], number[]] = [[], []]
  const te: [number[], number[]] = [[], []]
  perUser.forEach((rows, u) => {
    rows.sort((a, b) => a.ts - b.ts || a.line - b.line)
    const nTest = Math.round(rows.length * testShare)
    rows.forEach((r, k) => {
      const dst = k >= rows.length - nTest ? te : tr
      dst[0].push(u); dst[1].push(r.item)
    })
  })
  const users = userIds.size
  const items = itemIds.size
  return {
    users,
    items,
    train: csrFromPairs(users, items, Int32Array.from(tr[0]), Int32Array.from(tr[1])),
    test: csrFromPairs(users, items, Int32Array.from(te[0]), Int32Array.from(te[1])),
  }
}
