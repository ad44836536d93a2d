/**
 * npm run bench:mappings -- [--data ../shared/data/gowalla] [--budgets 0.25,0.1,0.05] [--kinds hash,l2c,baco]
 *   [--alpha 50] [--reg 0.02] [--epochs 8] [--dimension 64] [--threads 2] [--eval-users 0] [--l2c-share 0.5] [--baco-share 0]
 *
 * Item-table mappings at a share of the item rows: users keep full tables, items go through
 * frequency + double hashing ('hash'), Learning to Collide ('l2c') or balanced co-clustering
 * ('baco'), all trained by the same iALS; Recall@20 (hits / |test|) and NDCG@20 (LightGCN's
 * protocol: every item scored, train items excluded) relative to the full-table model of the run.
 * Train and test files share one id space; test pairs with an id unseen in train are skipped.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { csrFromPairs, transposeCsr, type Csr } from '../../src/trainer/csr.js'
import { dotScorer, evaluateScores, type Metrics } from '../../src/trainer/evaluate.js'
import { DEFAULT_MF_OPTIONS, MfWorkerPool, trainHashedMf, type MfOptions } from '../../src/trainer/hashed-mf.js'
import { identityLayout } from '../../src/trainer/mappings/assignment.js'
import { buildMapping, type MappingKind } from '../../src/trainer/mappings/build-mapping.js'
import { readInteractions } from '../../src/trainer/read-interactions.js'
import { sampleTestUsers } from '../../src/trainer/split.js'
import type { TableLayout } from '../../src/trainer/table-layout.js'

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/gowalla' },
    budgets: { type: 'string', default: '0.25,0.1,0.05' },
    kinds: { type: 'string', default: 'hash,l2c,baco' },
    alpha: { type: 'string', default: '50' },
    reg: { type: 'string', default: '0.02' },
    epochs: { type: 'string', default: String(DEFAULT_MF_OPTIONS.epochs) },
    dimension: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '42' },
    'eval-users': { type: 'string', default: '0' },
    'l2c-share': { type: 'string' },
    'baco-share': { type: 'string' },
    secondary: { type: 'boolean', default: false },
  },
})

const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }

async function load (dir: string): Promise<{ itemIds: string[], train: Csr, test: Csr }> {
  const tr = await readInteractions(join(dir, 'train.csv'))
  const te = await readInteractions(join(dir, 'test.csv'))
  const users = new Map(tr.userIds.map((id, i) => [id, i]))
  const items = new Map(tr.itemIds.map((id, i) => [id, i]))
  const tu: number[] = []
  const ti: number[] = []
  for (let k = 0; k < te.count; k++) {
    const u = users.get(te.userIds[te.users[k]])
    const i = items.get(te.itemIds[te.items[k]])
    if (u !== undefined && i !== undefined) { tu.push(u); ti.push(i) }
  }
  return {
    itemIds: [...tr.itemIds],
    train: csrFromPairs(tr.userIds.length, tr.itemIds.length, tr.users, tr.items, undefined, tr.count),
    test: csrFromPairs(tr.userIds.length, tr.itemIds.length, Int32Array.from(tu), Int32Array.from(ti)),
  }
}

async function main (): Promise<void> {
  const seed = Number(values.seed)
  const threads = Number(values.threads)
  const mf: MfOptions = { ...DEFAULT_MF_OPTIONS, dimension: Number(values.dimension), epochs: Number(values.epochs), alpha: Number(values.alpha), reg: Number(values.reg), seed, threads }
  const { itemIds, train, test: allTest } = await load(values.data)
  const evalUsers = Number(values['eval-users'])
  const test = evalUsers > 0 ? sampleTestUsers(allTest, evalUsers, seed) : allTest
  const itemsByUser = transposeCsr(train)
  const pool = threads > 1 ? new MfWorkerPool(threads - 1) : undefined
  const users = identityLayout(train.rows)
  const run = async (items: TableLayout): Promise<Metrics> => {
    const model = await trainHashedMf(train, users, items, mf, pool)
    return evaluateScores(train, test, 20, dotScorer(model.userVectors, model.itemVectors, model.dimension))
  }
  try {
    log(`${train.rows} users, ${train.cols} items, ${train.indptr[train.rows]} train pairs; alpha ${mf.alpha} reg ${mf.reg} d ${mf.dimension} epochs ${mf.epochs} threads ${threads}`)
    const full = await run(identityLayout(train.cols))
    console.log(`full: Recall@20 ${full.recallFull.toFixed(4)} NDCG@20 ${full.ndcg.toFixed(4)}`)
    console.log('| item rows | mapping | rows used | build (s) | Recall@20 | vs full | NDCG@20 | vs full |')
    console.log('|---|---|---|---|---|---|---|---|')
    for (const budget of values.budgets.split(',').map(Number)) {
      const rows = Math.max(2, Math.floor(budget * train.cols))
      for (const kind of values.kinds.split(',') as MappingKind[]) {
        const share = kind === 'l2c' ? values['l2c-share'] : kind === 'baco' ? values['baco-share'] : undefined
        const t0 = performance.now()
        const layout = await buildMapping(kind, 'item', {
          ids: itemIds, matrix: itemsByUser, transpose: train, rows, seed, threads, ...(pool ? { pool } : {}),
          ...(share === undefined ? {} : { dedicatedShare: Number(share) }),
          secondary: values.secondary, embedding: { alpha: mf.alpha, reg: mf.reg },
        })
        const buildS = (performance.now() - t0) / 1000
        const m = await run(layout)
        console.log(`| ${(budget * 100).toFixed(0)}% | ${kind} | ${layout.rows} | ${buildS.toFixed(1)} | ${m.recallFull.toFixed(4)} | ${(m.recallFull / full.recallFull).toFixed(3)}x | ${m.ndcg.toFixed(4)} | ${(m.ndcg / full.ndcg).toFixed(3)}x |`)
      }
    }
  } finally {
    await pool?.close()
  }
}

await main()
