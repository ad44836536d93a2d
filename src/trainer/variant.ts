/**
 * One variant trained and evaluated: its tables laid out for the budget (budget.ts, mappings), iALS
 * through them, the stored dtype's rounding applied, solved users given the exact user step the
 * service computes, and its metrics on the held-out data. What is evaluated is what would be served.
 */
import { f16ArrayToF32, f32ArrayToF16 } from '../hashing/f16.js'
import { computeItemGram } from '../model-loader/item-vectors.js'
import { createFoldInScratch, foldInVector } from '../realtime/fold-in.js'
import { fullTableBytes, mappingBytes, planRows, rowBytes, type RowPlan } from './budget.js'
import { dequantizeRowsI8, quantizeRowsI8 } from '../hashing/int8-rows.js'
import type { Csr } from './csr.js'
import { dotScorer, evaluateScores, itemCounts, type Metrics } from './evaluate.js'
import { trainHashedMf, type MfModel, type MfOptions, type MfWorkerPool } from './hashed-mf.js'
import { buildItemLayout } from './item-layout.js'
import { mappingColumns } from './mappings/assignment.js'
import { rowCounts } from './mappings/input.js'
import type { Interactions } from './read-interactions.js'
import type { VariantResult } from './report.js'
import { createTableLayout, frequencyOrder, fullLayout, tableSeeds, type TableLayout } from './table-layout.js'
import type { VariantConfig } from './variant-config.js'

export interface VariantContext {
  readonly data: Interactions
  readonly dimension: number
  readonly seed: number
  readonly threads: number
  readonly pool: MfWorkerPool | undefined
  readonly mf: (name: string) => MfOptions
  readonly k: number
}

export interface TrainedVariant {
  readonly config: VariantConfig
  readonly plan: RowPlan
  readonly name: string
  /** The trained tables, rounded to the stored dtype. */
  readonly model: MfModel
  /** Every training id's vector as served: item rows summed, users solved or stored. */
  readonly userVectors: Float32Array
  readonly itemVectors: Float32Array
  readonly bytes: number
  readonly share: number
}

export function variantName (c: VariantConfig, plan: RowPlan, share: number): string {
  if (c.userVectors === 'stored' && plan.usersFull && plan.itemsFull && c.dtype === 'F32') return 'full model'
  const items = plan.itemsFull ? 'items unhashed' : `items ${c.mapping}`
  const users = c.userVectors === 'solved' ? 'users solved' : plan.usersFull ? 'users unhashed' : 'users hash'
  return `${items}, ${users}, ${pct(share)} (${c.dtype})`
}

export function pct (share: number): string {
  return `${Math.round(share * 1000) / 10}%`
}


async function layouts (ctx: VariantContext, c: VariantConfig, plan: RowPlan, matrix: Csr): Promise<{ user: TableLayout, item: TableLayout }> {
  const { data, seed } = ctx
  const uc = rowCounts(matrix)
  const ic = itemCounts(matrix)
  const us = tableSeeds(seed, 'user')
  const user = plan.usersFull || c.userVectors === 'solved'
    ? fullLayout(data.userIds, uc, us)
    : createTableLayout(data.userIds, frequencyOrder(uc).slice(0, Math.floor(plan.userRows / 2)), plan.userRows - Math.floor(plan.userRows / 2), us)
  const item = plan.itemsFull
    ? fullLayout(data.itemIds, ic, tableSeeds(seed, 'item'))
    : await buildItemLayout(c.mapping, { ids: data.itemIds, matrix, rows: plan.itemRows, seed, threads: ctx.threads, pool: ctx.pool, embedding: ctx.mf('mapping'), ...(c.dedicatedShare === undefined ? {} : { dedicatedShare: c.dedicatedShare }) })
  return { user, item }
}

/** Each id's vector: the sum of its rows of `params` (the resolver's rule, table-layout.ts). */
export function vectorsOf (layout: TableLayout, params: Float32Array, d: number): Float32Array {
  const n = layout.idRowCount.length
  const out = new Float32Array(n * d)
  for (let i = 0; i < n; i++) {
    const c = layout.idRowCount[i]
    for (let r = 0; r < c; r++) {
      const src = layout.idRows[2 * i + r] * d
      for (let j = 0; j < d; j++) out[i * d + j] += params[src + j]
    }
  }
  return out
}

/**
 * Users' vectors as the service solves them (src/realtime/fold-in.ts): the exact iALS user step
 * over the served item vectors and each user's items in `matrix`.
 */
export function solveUsers (matrix: Csr, itemVectors: Float32Array, d: number, foldIn: { alpha: number, reg: number, regExponent: number }): Float32Array {
  const model = { dimension: d, itemVectors, itemGram: computeItemGram(itemVectors, matrix.cols, d), foldIn }
  const out = new Float32Array(matrix.rows * d)
  const scratch = createFoldInScratch(d)
  const v = new Float32Array(d)
  for (let u = 0; u < matrix.rows; u++) {
    const s = matrix.indptr[u]
    const n = matrix.indptr[u + 1] - s
    if (n > 0 && foldInVector(model, matrix.indices.subarray(s), n, v, scratch)) out.set(v, u * d)
  }
  return out
}

/** The table as the loader will serve it: F16 or per-row int8 rounding applied (rows of width d). */
function rounded (params: Float32Array, dtype: VariantConfig['dtype'], d: number): Float32Array {
  if (dtype === 'F16') return f16ArrayToF32(f32ArrayToF16(params))
  if (dtype === 'I8') { const { q, scale } = quantizeRowsI8(params, params.length / d, d); return dequantizeRowsI8(q, scale, d) }
  return params
}

/** Trains `c` on `matrix` (users x items of the log's dense ids). */
export async function trainVariant (ctx: VariantContext, c: VariantConfig, matrix: Csr): Promise<TrainedVariant> {
  const d = ctx.dimension
  const { data } = ctx
  const plan = planRows({ users: data.userIds.length, items: data.itemIds.length, dimension: d, budget: c.budget, mapping: c.mapping, userVectors: c.userVectors, dtype: c.dtype })
  const l = await layouts(ctx, c, plan, matrix)
  const columns = plan.itemsFull ? 1 : mappingColumns(l.item)
  const tableBytes = (l.item.rows + (c.userVectors === 'solved' ? 0 : l.user.rows)) * rowBytes(c.dtype, d)
  const bytes = tableBytes + (plan.itemsFull ? 0 : mappingBytes(c.mapping, data.itemIds.length, columns, l.item.rows))
  const share = bytes / fullTableBytes(data.userIds.length, data.itemIds.length, d)
  const name = variantName(c, plan, share)
  const opts = ctx.mf(name)
  const trained = await trainHashedMf(matrix, l.user, l.item, opts, ctx.pool)
  const itemParams = rounded(trained.itemParams, c.dtype, d)
  const userParams = c.userVectors === 'solved' ? new Float32Array(0) : rounded(trained.userParams, c.dtype, d)
  const itemVectors = c.dtype === 'F32' ? trained.itemVectors : vectorsOf(l.item, itemParams, d)
  const userVectors = c.userVectors === 'solved'
    ? solveUsers(matrix, itemVectors, d, { alpha: opts.alpha, reg: opts.reg, regExponent: opts.regExponent })
    : c.dtype === 'F32' ? trained.userVectors : vectorsOf(l.user, userParams, d)
  const model: MfModel = { ...trained, itemParams, userParams, itemVectors, userVectors }
  return { config: c, plan, name, model, userVectors, itemVectors, bytes, share }
}

/** The report row of a trained variant evaluated on `test`, ranking every item not in `train`. */
export function evaluateVariant (v: TrainedVariant, train: Csr, test: Csr, k: number, d: number): { row: VariantResult, metrics: Metrics } {
  const t = performance.now()
  const m = evaluateScores(train, test, k, dotScorer(v.userVectors, v.itemVectors, d))
  const c = v.config
  return {
    metrics: m,
    row: {
      ...metricsOf(v.name, v.plan.itemsFull && v.plan.usersFull && c.userVectors === 'stored' ? 'full' : 'table', m, v.bytes, v.share, performance.now() - t, v.model.trainMs),
      mapping: v.plan.itemsFull ? 'none' : c.mapping,
      budget: c.budget,
      userVectors: c.userVectors,
      dtype: c.dtype,
      detail: { tables: { user: v.model.userLayout.config, item: v.model.itemLayout.config }, itemRows: v.plan.itemRows },
    },
  }
}

export function metricsOf (name: string, kind: VariantResult['kind'], m: Metrics, bytes: number, share: number, evalMs: number, trainMs?: number): VariantResult {
  return { name, kind, recall: m.recallFull, ndcg: m.ndcg, recall10: m.recall10, users: m.users, bytes, share, evalMs, ...(trainMs === undefined ? {} : { trainMs }) }
}
