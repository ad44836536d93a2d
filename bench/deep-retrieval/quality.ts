/**
 * npm run bench:dr -- [--data gowalla,ml-latest-small] [--hidden 0,32] [--pairs interactions,teacher,both] [--holdout 0.2]
 *                      [--eval-users 10000] [--threads 2] [--full]
 *
 * Deep Retrieval against exhaustive inner product on the same served vectors, per dataset: the
 * served model as the trainer builds it by default (iALS through hybrid-hashed tables at the
 * default budget; --full for unhashed tables), then the structure with the trainer's defaults for
 * that catalog (one run per --hidden: 0 is the linear layer), its training time (wall and CPU) and
 * Recall@20 / NDCG@20 / items scored per query at every beam of the trainer's curve.
 *
 * Gowalla uses its published split (../shared/data/gowalla/{train,test}.csv, LightGCN's); MovieLens
 * the trainer's temporal split of ratings.csv (latest 20% of each user's interactions).
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { csrFromPairs, type Csr } from '../../src/trainer/csr.js'
import { evaluateDeepRetrieval } from '../../src/trainer/deep-retrieval/evaluate.js'
import { DR_EVAL_BEAMS, DR_EVAL_K, deepRetrievalOptionsFor, runDeepRetrievalStep } from '../../src/trainer/deep-retrieval/pipeline-step.js'
import { createDeepRetrievalIndex } from '../../src/search/deep-retrieval/engine.js'
import { DR_LIMITS } from '../../src/bundle-format/deep-retrieval.js'
import { itemCounts } from '../../src/trainer/evaluate.js'
import { DEFAULT_MF_OPTIONS, MfWorkerPool, trainHashedMf } from '../../src/trainer/hashed-mf.js'
import { DEFAULT_TRAINER_OPTIONS } from '../../src/trainer/pipeline.js'
import { readInteractions, type Interactions } from '../../src/trainer/read-interactions.js'
import { createRng } from '../../src/trainer/rng.js'
import { sampleTestUsers, splitByTime } from '../../src/trainer/split.js'
import { createTableLayout, frequencyOrder, fullLayout, planBudget, tableSeeds } from '../../src/trainer/table-layout.js'

/** The hashed-both-tables layout this benchmark's structures were measured on (table-layout.ts planBudget). */
const HASHED_SHARE = 0.1

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'gowalla,ml-latest-small' },
    hidden: { type: 'string', default: '0,32' },
    pairs: { type: 'string', default: 'interactions' },
    /** Share of users left out of the structure's training and evaluated alone: how it does for users it never saw. */
    holdout: { type: 'string', default: '0' },
    'eval-users': { type: 'string', default: '10000' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: String(DEFAULT_TRAINER_OPTIONS.seed) },
    full: { type: 'boolean', default: false },
    shared: { type: 'string', default: '../shared/data' },
  },
})
const seed = Number(values.seed)
const threads = Number(values.threads)
const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }

interface Dataset { readonly name: string, readonly userIds: readonly string[], readonly itemIds: readonly string[], readonly train: Csr, readonly test: Csr }

/** Train and test files over one id space (Gowalla's ids are dense integers in both). */
async function givenSplit (name: string, dir: string): Promise<Dataset> {
  const tr = await readInteractions(join(dir, 'train.csv'))
  const te = await readInteractions(join(dir, 'test.csv'))
  const users = new Map<string, number>()
  const items = new Map<string, number>()
  const intern = (m: Map<string, number>, id: string): number => { let v = m.get(id); if (v === undefined) { v = m.size; m.set(id, v) } return v }
  const rows = (d: Interactions): { u: Int32Array, i: Int32Array } => ({
    u: Int32Array.from(d.users, (u) => intern(users, d.userIds[u])),
    i: Int32Array.from(d.items, (i) => intern(items, d.itemIds[i])),
  })
  const a = rows(tr)
  const b = rows(te)
  return {
    name,
    userIds: [...users.keys()],
    itemIds: [...items.keys()],
    train: csrFromPairs(users.size, items.size, a.u, a.i, undefined, tr.count),
    test: csrFromPairs(users.size, items.size, b.u, b.i, undefined, te.count),
  }
}

async function temporalSplit (name: string, file: string): Promise<Dataset> {
  const log = await readInteractions(file)
  const { train, test } = splitByTime(log)
  return { name, userIds: log.userIds, itemIds: log.itemIds, train, test }
}

function rowCounts (m: Csr): Float32Array {
  const out = new Float32Array(m.rows)
  for (let u = 0; u < m.rows; u++) out[u] = m.indptr[u + 1] - m.indptr[u]
  return out
}

const rows: string[] = []
const pool = threads > 1 ? new MfWorkerPool(threads - 1) : undefined
try {
  for (const name of values.data.split(',')) {
    const ds = name === 'gowalla' ? await givenSplit(name, join(values.shared, 'gowalla')) : await temporalSplit(name, join(values.shared, name, 'ratings.csv'))
    const { train } = ds
    const holdout = Number(values.holdout)
    // Held-out users (a seeded share): no pairs in the structure's training, the only ones evaluated.
    const held = new Uint8Array(train.rows)
    if (holdout > 0) { const rng = createRng(seed ^ 0x401d); for (let u = 0; u < train.rows; u++) held[u] = rng.next() < holdout ? 1 : 0 }
    const onlyRows = (m: Csr, keep: (u: number) => boolean): Csr => {
      const indptr = new Int32Array(m.rows + 1)
      const parts: Int32Array[] = []
      for (let u = 0; u < m.rows; u++) { const row = keep(u) ? m.indices.subarray(m.indptr[u], m.indptr[u + 1]) : new Int32Array(0); parts.push(row); indptr[u + 1] = indptr[u] + row.length }
      const indices = new Int32Array(indptr[m.rows])
      parts.forEach((p, u) => indices.set(p, indptr[u]))
      return { rows: m.rows, cols: m.cols, indptr, indices, values: new Float32Array(indices.length).fill(1) }
    }
    const drTrain = holdout > 0 ? onlyRows(train, (u) => held[u] === 0) : train
    const test = sampleTestUsers(holdout > 0 ? onlyRows(ds.test, (u) => held[u] === 1) : ds.test, Number(values['eval-users']), seed)
    const uc = rowCounts(train)
    const ic = itemCounts(train)
    const us = tableSeeds(seed, 'user')
    const is = tableSeeds(seed, 'item')
    const plan = planBudget(uc, ic, HASHED_SHARE, 0.5)
    const layouts = values.full
      ? { user: fullLayout(ds.userIds, uc, us), item: fullLayout(ds.itemIds, ic, is) }
      : { user: createTableLayout(ds.userIds, frequencyOrder(uc).slice(0, plan.userDedicated), plan.userShared, us), item: createTableLayout(ds.itemIds, frequencyOrder(ic).slice(0, plan.itemDedicated), plan.itemShared, is) }
    const mf = await trainHashedMf(train, layouts.user, layouts.item, { ...DEFAULT_MF_OPTIONS, seed, threads }, pool)
    const served = values.full ? 'iALS, unhashed tables' : `iALS, hashed tables at ${HASHED_SHARE * 100}% of the parameters`
    log(`${name}: ${ds.userIds.length} users, ${ds.itemIds.length} items, ${train.indptr[train.rows]} train interactions; ${served} in ${(mf.trainMs / 1000).toFixed(1)} s`)
    let exhaustive: { recall: number, ndcg: number } | undefined
    for (const hidden of values.hidden.split(',').map(Number)) for (const pairs of values.pairs.split(',') as ('interactions' | 'teacher' | 'both')[]) {
      const options = deepRetrievalOptionsFor(ds.itemIds.length, { hidden, pairs }, seed)
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      const step = runDeepRetrievalStep({ dimension: mf.dimension, userVectors: mf.userVectors, itemVectors: mf.itemVectors, train: drTrain, test: null, options, log })
      const wallMs = performance.now() - t0
      const cpu = process.cpuUsage(cpu0)
      const index = createDeepRetrievalIndex(step.model.network, step.model.itemKeys, ds.itemIds.length, options.beam)
      const e = evaluateDeepRetrieval({ dimension: mf.dimension, userVectors: mf.userVectors, itemVectors: mf.itemVectors, train, test, index, beams: DR_EVAL_BEAMS, k: DR_EVAL_K, maxBeam: DR_LIMITS.maxBeam, ...(exhaustive ? { exhaustive } : {}) })
      exhaustive = e.exhaustive
      const label = `${name} (${ds.itemIds.length} items, ${e.users} ${holdout > 0 ? 'held-out ' : ''}users), K=${options.width} D=${options.depth} J=${options.pathsPerItem} ${hidden > 0 ? `MLP ${hidden}` : 'linear'}, pairs: ${pairs}`
      rows.push(`| ${label} | exhaustive | ${e.exhaustive.recall.toFixed(4)} | 1.000 | ${e.exhaustive.ndcg.toFixed(4)} | 1.000 | ${ds.itemIds.length} | 100% | train ${(wallMs / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU |`)
      for (const b of e.beams) {
        rows.push(`| ${label} | beam ${b.beam} | ${b.recall.toFixed(4)} | ${(b.recall / e.exhaustive.recall).toFixed(3)} | ${b.ndcg.toFixed(4)} | ${(b.ndcg / e.exhaustive.ndcg).toFixed(3)} | ${Math.round(b.candidates)} | ${(100 * b.catalogShare).toFixed(2)}% | ${b.msPerQuery.toFixed(3)} ms/query${b.fallbacks > 0 ? `, ${b.fallbacks} fallbacks` : ''} |`)
      }
      log(rows.slice(-1 - e.beams.length).join('\n'))
    }
  }
} finally {
  await pool?.close()
}
console.log(`| data, structure | search | Recall@${DR_EVAL_K} | x exhaustive | NDCG@${DR_EVAL_K} | x exhaustive | items scored per query | share of catalog | note |`)
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
for (const r of rows) console.log(r)
