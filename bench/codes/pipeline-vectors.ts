/**
 * Real-valued vectors from the pipeline's own hashed MF (src/trainer), configured as the served
 * model (hashed at --budget of the full tables' parameters), on the pipeline's own split, so the
 * codes can be measured on exactly what `npm run train` feeds them.
 */
import { DEFAULT_MF_OPTIONS, trainHashedMf } from '../../src/trainer/hashed-mf.js'
import { readInteractions } from '../../src/trainer/read-interactions.js'
import { splitByTime } from '../../src/trainer/split.js'
import { createTableLayout, frequencyOrder, planBudget, tableSeeds } from '../../src/trainer/table-layout.js'
import { itemCounts } from '../../src/trainer/evaluate.js'
import type { SplitData } from './data.js'

export async function pipelineVectors (file: string, budget: number, seed: number): Promise<SplitData & { userVectors: Float32Array, itemVectors: Float32Array }> {
  const log = await readInteractions(file)
  const { train, test } = splitByTime(log)
  const uc = new Float32Array(train.rows)
  for (let u = 0; u < train.rows; u++) uc[u] = train.indptr[u + 1]! - train.indptr[u]!
  const ic = itemCounts(train)
  const plan = planBudget(uc, ic, budget, 0.5)
  const user = createTableLayout(log.userIds, frequencyOrder(uc).slice(0, plan.userDedicated), plan.userShared, tableSeeds(seed, 'user'))
  const item = createTableLayout(log.itemIds, frequencyOrder(ic).slice(0, plan.itemDedicated), plan.itemShared, tableSeeds(seed, 'item'))
  const model = await trainHashedMf(train, user, item, { ...DEFAULT_MF_OPTIONS, seed })
  return { users: train.rows, items: train.cols, train, test, userVectors: model.userVectors, itemVectors: model.itemVectors }
}
