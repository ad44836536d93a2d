/**
 * The quality-per-byte frontier: the full model, then variants at the report's budgets, and the
 * served budget chosen from them. `--budget auto` picks the smallest budget whose Recall@20 on the
 * held-out data is within AUTO_BUDGET_TOLERANCE of the full model's, trying the budgets from the
 * smallest up so a dataset that compresses well costs few trainings.
 */
import { AUTO_BUDGET_TOLERANCE, FRONTIER_BUDGETS, fullTableBytes, planRows } from './budget.js'
import type { Csr } from './csr.js'
import type { VariantResult } from './report.js'
import { evaluateVariant, trainVariant, type TrainedVariant, type VariantContext } from './variant.js'
import { FULL_MODEL, MAPPING_KINDS, type MappingKind, type VariantConfig } from './variant-config.js'

export type BudgetChoice = number | 'auto' | { readonly maxBytes: number }
/** 'served': only the served variant; 'mapping': the full model and the served mapping's frontier when auto needs it; 'all': every mapping at every budget. */
export type FrontierScope = 'served' | 'mapping' | 'all'

export interface Selection {
  readonly mode: 'auto' | 'fixed' | 'max-bytes'
  readonly budget: number
  readonly served: TrainedVariant
  readonly servedRow: VariantResult
  readonly full: VariantResult | null
  /** Auto only: the budget's Recall@20 over the full model's, and the threshold it had to reach. */
  readonly ratio?: number
  readonly tolerance?: number
}

interface Tried { readonly variant: TrainedVariant, readonly row: VariantResult }

/** Variants that train the same tables share one training (a budget where every item keeps its row is the same for every mapping). */
function keyOf (ctx: VariantContext, c: VariantConfig): string {
  const plan = planRows({ users: ctx.data.userIds.length, items: ctx.data.itemIds.length, dimension: ctx.dimension, ...c })
  return plan.itemsFull ? `full-items|${plan.userRows}|${c.userVectors}|${c.dtype}` : `${c.mapping}|${plan.itemRows}|${plan.userRows}|${c.userVectors}|${c.dtype}`
}

export async function runFrontier (ctx: VariantContext, train: Csr, test: Csr, base: Omit<VariantConfig, 'budget'>, choice: BudgetChoice, scope: FrontierScope, rows: VariantResult[], log: (msg: string) => void): Promise<Selection> {
  const d = ctx.dimension
  const tried = new Map<string, Tried>()
  const run = async (c: VariantConfig): Promise<Tried | null> => {
    let key: string
    try {
      key = keyOf(ctx, c)
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      log(`${c.mapping} at ${c.budget}: skipped, ${err.message}`)
      return null
    }
    const seen = tried.get(key)
    if (seen) return seen
    const variant = await trainVariant(ctx, c, train)
    const { row } = evaluateVariant(variant, train, test, ctx.k, d)
    log(`${variant.name}: Recall@${ctx.k} ${row.recall.toFixed(4)} NDCG@${ctx.k} ${row.ndcg.toFixed(4)} (${variant.bytes.toLocaleString('en-US')} bytes, train ${Math.round(variant.model.trainMs)} ms)`)
    const t = { variant, row }
    tried.set(key, t)
    rows.push(row)
    return t
  }
  const fullBytes = fullTableBytes(ctx.data.userIds.length, ctx.data.itemIds.length, d)
  let full: Tried | null = null
  if (scope !== 'served' || choice === 'auto') full = await run(FULL_MODEL)
  const fullRecall = full?.row.recall ?? NaN
  const mappings: readonly MappingKind[] = scope === 'all' ? MAPPING_KINDS : [base.mapping]
  let auto: { budget: number, t: Tried, ratio: number } | null = null
  for (const mapping of mappings) {
    if (scope === 'served' && choice !== 'auto') break
    if (scope === 'mapping' && (choice !== 'auto' || mapping !== base.mapping)) continue
    for (const budget of [...FRONTIER_BUDGETS].reverse()) {
      const t = await run({ ...base, mapping, budget })
      if (t === null) continue
      const ratio = t.row.recall / fullRecall
      if (mapping === base.mapping && auto === null && ratio >= 1 - AUTO_BUDGET_TOLERANCE) {
        auto = { budget, t, ratio }
        if (scope !== 'all') break
      }
    }
  }
  if (choice === 'auto') {
    // No budget below the full tables kept the quality: serve the largest tried (every item its own row).
    const pick = auto ?? { budget: 1, t: (await run({ ...base, budget: 1 }))!, ratio: 0 }
    const ratio = pick.t.row.recall / fullRecall
    return { mode: 'auto', budget: pick.budget, served: pick.t.variant, servedRow: pick.t.row, full: full!.row, ratio, tolerance: AUTO_BUDGET_TOLERANCE }
  }
  const budget = typeof choice === 'number' ? choice : Math.min(1, choice.maxBytes / fullBytes)
  const served = await run({ ...base, budget })
  if (served === null) throw new RangeError(`a budget of ${budget} cannot hold the item table`)
  return { mode: typeof choice === 'number' ? 'fixed' : 'max-bytes', budget, served: served.variant, servedRow: served.row, full: full?.row ?? null }
}
