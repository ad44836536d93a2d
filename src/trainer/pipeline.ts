/**
 * The offline trainer end to end: read the log, split it, train the reference variants and the
 * served hybrid-hashed model, learn binary codes, evaluate everything on the same split, and
 * export a bundle (tensors, catalog, HNSW index, eval.json / eval.md / eval.svg).
 */
import { join } from 'node:path'
import { writeBundle, type BundleItem } from '../model-loader/write-bundle.js'
import type { CodeBits, Manifest } from '../bundle-format/manifest.js'
import { DEFAULT_HYBRID_CANDIDATES } from '../defaults.js'
import type { ItemMeta } from '../model-loader/model.js'
import { learnCodes } from './codes/learn-codes.js'
import { evaluateHamming, evaluateTwoStage, signCodesBaseline } from './code-ranking.js'
import type { Csr } from './csr.js'
import { dotScorer, evaluateScores, itemCounts, type Metrics } from './evaluate.js'
import { DEFAULT_MF_OPTIONS, MfWorkerPool, trainHashedMf, type MfModel, type MfOptions } from './hashed-mf.js'
import { readItemMetadata } from './item-metadata.js'
import { createProgress, type Progress } from './progress.js'
import { readInteractions, type Interactions, type ReadOptions } from './read-interactions.js'
import { reportMarkdown, reportSvg, type Report, type VariantResult } from './report.js'
import { fullMatrix, sampleTestUsers, splitByTime } from './split.js'
import { createTableLayout, frequencyOrder, fullLayout, planBudget, tableSeeds, type BudgetPlan } from './table-layout.js'
import type { DeepRetrievalOverrides, DeepRetrievalStepResult } from './deep-retrieval/pipeline-step.js'
import { createStructureStage, structureForBundle } from './deep-retrieval/trainer-stage.js'

export interface TrainerOptions {
  readonly input: string
  readonly out: string
  /** Optional item metadata file (id, title, tags). */
  readonly items?: string
  readonly read?: ReadOptions
  readonly seed: number
  readonly threads: number
  readonly dimension: number
  readonly bits: CodeBits
  readonly epochs: number
  readonly reg: number
  readonly regExponent: number
  readonly alpha: number
  readonly cgSteps: number
  /** Parameter share of the served model's tables, relative to the unhashed tables. */
  readonly budget: number
  /** Share of each table's rows given to dedicated ids when the table is hashed. */
  readonly dedicatedShare: number
  /** Train and evaluate every reference variant (full MF, hashed 100% / 25%); otherwise only what is served. */
  readonly report: boolean
  /** Retrain the served model and its codes on the whole log (test part included) before export. */
  readonly refit: boolean
  readonly modelId: string
  readonly k: number
  /** Evaluate on at most this many users with test items (a seeded sample; see sampleTestUsers). */
  readonly evalUsers: number
  /**
   * Build the Deep Retrieval structure over the served vectors (overrides of the defaults chosen by
   * catalog size), or false to skip it.
   */
  readonly deepRetrieval: DeepRetrievalOverrides | false
  readonly log?: (msg: string) => void
  readonly progress?: Progress
}

export const DEFAULT_TRAINER_OPTIONS = {
  seed: 42,
  threads: 2,
  dimension: DEFAULT_MF_OPTIONS.dimension,
  bits: 64,
  epochs: DEFAULT_MF_OPTIONS.epochs,
  reg: DEFAULT_MF_OPTIONS.reg,
  regExponent: DEFAULT_MF_OPTIONS.regExponent,
  alpha: DEFAULT_MF_OPTIONS.alpha,
  cgSteps: DEFAULT_MF_OPTIONS.cgSteps,
  budget: 0.1,
  dedicatedShare: 0.5,
  report: true,
  refit: false,
  modelId: 'default',
  k: 10,
  evalUsers: 20_000,
  deepRetrieval: {},
} as const satisfies Omit<TrainerOptions, 'input' | 'out'>

export interface TrainerResult {
  readonly report: Report
  readonly manifest: Manifest
  readonly timings: Record<string, number>
}

const F32 = 4

function userCounts (m: Csr): Float32Array {
  const out = new Float32Array(m.rows)
  for (let u = 0; u < m.rows; u++) out[u] = m.indptr[u + 1] - m.indptr[u]
  return out
}

function layoutsFor (log: Interactions, matrix: Csr, plan: BudgetPlan | 'full', seed: number): { user: ReturnType<typeof fullLayout>, item: ReturnType<typeof fullLayout> } {
  const uc = userCounts(matrix)
  const ic = itemCounts(matrix)
  const us = tableSeeds(seed, 'user')
  const is = tableSeeds(seed, 'item')
  if (plan === 'full') return { user: fullLayout(log.userIds, uc, us), item: fullLayout(log.itemIds, ic, is) }
  return {
    user: createTableLayout(log.userIds, frequencyOrder(uc).slice(0, plan.userDedicated), plan.userShared, us),
    item: createTableLayout(log.itemIds, frequencyOrder(ic).slice(0, plan.itemDedicated), plan.itemShared, is),
  }
}

function metricsRow (name: string, kind: VariantResult['kind'], m: Metrics, params: number, bytes: number, evalMs: number, trainMs?: number, detail?: Record<string, unknown>): VariantResult {
  return { name, kind, recall: m.recall, recallFull: m.recallFull, ndcg: m.ndcg, users: m.users, params, bytes, evalMs, ...(trainMs === undefined ? {} : { trainMs }), ...(detail ? { detail } : {}) }
}

function budgetLabel (b: number): string {
  return `${Math.round(b * 1000) / 10}%`
}

export async function runTrainer (opts: TrainerOptions): Promise<TrainerResult> {
  const pool = opts.threads > 1 ? new MfWorkerPool(opts.threads - 1) : undefined
  try {
    return await train(opts, pool)
  } finally {
    await pool?.close()
  }
}

async function train (opts: TrainerOptions, pool: MfWorkerPool | undefined): Promise<TrainerResult> {
  const log = opts.log ?? (() => {})
  const progress = opts.progress ?? createProgress()
  const t0 = performance.now()
  const timings: Record<string, number> = {}
  const lap = (name: string, since: number): number => { const now = performance.now(); timings[name] = Math.round(now - since); return now }

  let t = performance.now()
  const data = await readInteractions(opts.input, opts.read)
  const meta = opts.items ? await readItemMetadata(opts.items) : new Map<string, ItemMeta>()
  for (const b of data.badRowSamples) log(`bad row: line ${b.line}: ${b.reason}`)
  if (data.badRows > data.badRowSamples.length) log(`... ${data.badRows - data.badRowSamples.length} more bad rows`)
  log(`read ${data.count} interactions (${data.userIds.length} users, ${data.itemIds.length} items, ${data.badRows} bad rows, ${data.belowThreshold} below the rating threshold)`)
  t = lap('parseMs', t)
  // Checked before any training: a structure the trainer cannot build is bad input.
  const structure = createStructureStage(opts.deepRetrieval, data.itemIds.length, opts.dimension, opts.seed, progress, log, timings)

  const split = splitByTime(data)
  const { train } = split
  const test = sampleTestUsers(split.test, opts.evalUsers, opts.seed)
  const d = opts.dimension
  const mf = (name: string): MfOptions => ({
    ...DEFAULT_MF_OPTIONS,
    dimension: d, epochs: opts.epochs, alpha: opts.alpha, reg: opts.reg, regExponent: opts.regExponent, cgSteps: opts.cgSteps, seed: opts.seed, threads: opts.threads,
    onEpoch: ({ epoch, loss, elapsedMs }) => progress.update(`${name}: epoch ${epoch}/${opts.epochs} loss ${loss.toFixed(1)} elapsed ${(elapsedMs / 1000).toFixed(1)} s (total ${((performance.now() - t0) / 1000).toFixed(1)} s)`),
  })
  const variants: VariantResult[] = []
  const nU = data.userIds.length
  const nI = data.itemIds.length
  const popularity = itemCounts(train)
  let e = performance.now()
  variants.push(metricsRow('popularity', 'popularity', evaluateScores(train, test, opts.k, (_u, s) => s.set(popularity)), nI, nI * F32, performance.now() - e))

  const trainVariant = async (name: string, plan: BudgetPlan | 'full', matrix: Csr): Promise<{ model: MfModel, row: VariantResult }> => {
    const layouts = layoutsFor(data, matrix, plan, opts.seed)
    const model = await trainHashedMf(matrix, layouts.user, layouts.item, mf(name), pool)
    progress.done()
    e = performance.now()
    const m = evaluateScores(train, test, opts.k, dotScorer(model.userVectors, model.itemVectors, d))
    const rows = layouts.user.rows + layouts.item.rows
    const tables = { user: layouts.user.config, item: layouts.item.config }
    const row = metricsRow(name, plan === 'full' ? 'mf' : 'hashed-mf', m, rows * d, rows * d * F32, performance.now() - e, model.trainMs, { tables })
    log(`${name}: Recall@${opts.k} ${m.recall.toFixed(4)} NDCG@${opts.k} ${m.ndcg.toFixed(4)} (${rows} rows, train ${Math.round(model.trainMs)} ms)`)
    return { model, row }
  }

  const uc = userCounts(train)
  const ic = popularity
  const servedPlan = planBudget(uc, ic, opts.budget, opts.dedicatedShare)
  const servedName = `hashed MF ${budgetLabel(servedPlan.rows / servedPlan.fullRows)}`
  let fullRecall: number | null = null
  if (opts.report) {
    const full = await trainVariant('full MF', 'full', train)
    variants.push(full.row)
    fullRecall = full.row.recall
    for (const b of [1, 0.25]) {
      if (Math.abs(b - opts.budget) < 1e-9) continue
      const plan = planBudget(uc, ic, b, opts.dedicatedShare)
      variants.push((await trainVariant(`hashed MF ${budgetLabel(plan.rows / plan.fullRows)}`, plan, train)).row)
    }
  }
  const served = await trainVariant(servedName, servedPlan, train)
  variants.push(served.row)
  t = lap('mfMs', t)

  const codeInput = (model: MfModel, matrix: Csr): Parameters<typeof learnCodes>[0] => ({
    users: nU, items: nI, dimension: d, bits: opts.bits, userVectors: model.userVectors, itemVectors: model.itemVectors, train: matrix, seed: opts.seed, threads: opts.threads, log: (msg) => progress.update(msg),
  })
  const codeBytes = (nU + nI) * (opts.bits / 8)
  if (opts.bits <= d) {
    const su = signCodesBaseline(served.model.userVectors, nU, d, opts.bits)
    const si = signCodesBaseline(served.model.itemVectors, nI, d, opts.bits)
    e = performance.now()
    variants.push(metricsRow(`sign() codes ${opts.bits}-bit (baseline)`, 'codes', evaluateHamming(train, test, opts.k, su, si, opts.bits), (nU + nI) * opts.bits / 32, codeBytes, performance.now() - e))
  }
  const ct = performance.now()
  const codes = await learnCodes(codeInput(served.model, train))
  progress.done()
  const codesMs = performance.now() - ct
  e = performance.now()
  const hamming = evaluateHamming(train, test, opts.k, codes.userCodes, codes.itemCodes, opts.bits)
  variants.push(metricsRow(`learned codes ${opts.bits}-bit, Hamming`, 'codes', hamming, (nU + nI) * opts.bits / 32, codeBytes, performance.now() - e, codesMs))
  e = performance.now()
  const twoStage = evaluateTwoStage(train, test, opts.k, codes.userCodes, codes.itemCodes, opts.bits, served.model.userVectors, served.model.itemVectors, d, DEFAULT_HYBRID_CANDIDATES)
  variants.push(metricsRow(`two-stage (Hamming top-${DEFAULT_HYBRID_CANDIDATES}, ${servedName} re-rank)`, 'two-stage', twoStage, served.row.params + (nU + nI) * opts.bits / 32, served.row.bytes + codeBytes, performance.now() - e))
  log(`codes: Hamming Recall@${opts.k} ${hamming.recall.toFixed(4)}, two-stage ${twoStage.recall.toFixed(4)} (${Math.round(codesMs)} ms)`)
  t = lap('codesMs', t)

  const targets = qualityTargets(servedName, served.row.recall, fullRecall, opts.bits, hamming.recall, twoStage.recall)

  // By default the exported model is the evaluated one (what eval.json describes, and the 60 s
  // budget holds). --refit retrains the same configuration on every interaction, the held-out
  // 20% included, at the cost of one more MF + codes training.
  let exportModel = served.model
  let exportCodes = codes
  let exportMatrix = train
  if (opts.refit) {
    exportMatrix = fullMatrix(data)
    const plan = planBudget(userCounts(exportMatrix), itemCounts(exportMatrix), opts.budget, opts.dedicatedShare)
    const layouts = layoutsFor(data, exportMatrix, plan, opts.seed)
    exportModel = await trainHashedMf(exportMatrix, layouts.user, layouts.item, mf(`${servedName} (refit on all interactions)`), pool)
    progress.done()
    exportCodes = await learnCodes(codeInput(exportModel, exportMatrix))
    progress.done()
    lap('refitMs', t)
  }
  // The structure routes the served vectors: evaluated on the split's, retrained from it on the refit ones.
  const dr = structure?.evaluated(served.model, train, test) ?? null
  const exportDr = dr && structure!.exported(dr, exportModel, exportMatrix, opts.refit)

  const report: Report = {
    dataset: { input: opts.input, interactions: data.count, users: nU, items: nI, badRows: data.badRows, trainInteractions: train.indptr[train.rows], testInteractions: test.indptr[test.rows], evaluatedUsers: variants[0].users },
    split: 'per user, latest 20% of interactions (by timestamp, file order on ties) are test',
    metric: `Recall@${opts.k} = |top-${opts.k} ∩ test| / min(${opts.k}, |test|); NDCG@${opts.k} with binary gains; all items not in the user's train interactions are ranked; averaged over users with test items.`,
    k: opts.k,
    variants,
    targets,
    timings,
    served: servedName,
    ...(dr ? { deepRetrieval: structure!.report(dr) } : {}),
  }
  const md = reportMarkdown(report)
  const svg = reportSvg(report)

  const exported = exportBundleInput(data, meta, exportModel, exportCodes, exportMatrix, opts, exportDr)
  const hnswStart = performance.now()
  timings.totalBeforeExportMs = Math.round(performance.now() - t0)
  const manifest = await writeBundle(opts.out, {
    ...exported,
    // The service's fold-in is this trainer's user step: same confidence and ridge.
    foldIn: { alpha: opts.alpha, reg: opts.reg, regExponent: opts.regExponent },
    // 'ip' beat the l2-mips reduction on this model at every ef (BENCHMARKS.md, retrieval engines).
    hnsw: { space: 'ip', M: 16, efConstruction: 200, efSearch: 64, randomSeed: 100, prebuild: true },
    training: trainingMetadata(opts, data, report, dr),
    extraFiles: {
      'eval.json': JSON.stringify(report, null, 2) + '\n',
      'eval.md': md,
      'eval.svg': svg,
    },
  })
  timings.exportMs = Math.round(performance.now() - hnswStart)
  timings.totalMs = Math.round(performance.now() - t0)
  log(`wrote ${join(opts.out, 'manifest.json')} in ${timings.totalMs} ms total`)
  return { report, manifest, timings }
}

/**
 * The quality targets the report checks: the real-valued model's Recall@10, and what hashing the
 * tables and ranking by codes keep of it. "Real-valued" is the unhashed model when the report
 * trained it (without --fast), the served hashed model otherwise; the hashed/full ratio needs the
 * full model.
 */
function qualityTargets (servedName: string, servedRecall: number, fullRecall: number | null, bits: number, hammingRecall: number, twoStageRecall: number): Report['targets'] {
  const reference = fullRecall ?? servedRecall
  const realName = fullRecall === null ? servedName : 'full MF'
  return [
    { name: `real-valued MF (${realName}) Recall@10`, value: reference, target: 0.11 },
    ...(fullRecall === null ? [] : [{ name: `${servedName} / full MF Recall@10`, value: servedRecall / fullRecall, target: 0.97 }]),
    { name: `${bits}-bit Hamming / ${realName} Recall@10`, value: hammingRecall / reference, target: 0.8 },
    { name: `two-stage / ${realName} Recall@10`, value: twoStageRecall / reference, target: 0.95 },
  ].map((x) => ({ ...x, met: x.value >= x.target }))
}

/** The manifest's `training`: what was trained, on what, and how it evaluated (GET /v1/model shows it). */
function trainingMetadata (opts: TrainerOptions, data: Interactions, report: Report, dr: DeepRetrievalStepResult | null): Record<string, unknown> {
  return {
    trainer: 'hashrec iALS over hybrid-hashed tables + learned binary codes',
    input: opts.input,
    options: { seed: opts.seed, threads: opts.threads, dimension: opts.dimension, bits: opts.bits, epochs: opts.epochs, alpha: opts.alpha, reg: opts.reg, regExponent: opts.regExponent, cgSteps: opts.cgSteps, budget: opts.budget, dedicatedShare: opts.dedicatedShare, refit: opts.refit, deepRetrieval: dr ? dr.options : false },
    data: { interactions: data.count, users: data.userIds.length, items: data.itemIds.length, badRows: data.badRows },
    eval: {
      split: report.split, metric: report.metric, served: report.served,
      variants: report.variants.map((v) => ({ name: v.name, recall: round4(v.recall), ndcg: round4(v.ndcg), params: v.params, bytes: v.bytes })),
      targets: report.targets.map((x) => ({ ...x, value: round4(x.value) })),
    },
    timings: report.timings,
  }
}

function round4 (x: number): number {
  return Math.round(x * 10000) / 10000
}

/** Bundle tensors in the bundle's row order: dedicated items first (the loader's dictionary is a catalog prefix), dedicated users only. */
function exportBundleInput (data: Interactions, meta: Map<string, ItemMeta>, model: MfModel, codes: { userCodes: Uint8Array, itemCodes: Uint8Array, userCodeProjection: Float32Array | null }, matrix: Csr, opts: TrainerOptions, dr: DeepRetrievalStepResult | null): Omit<Parameters<typeof writeBundle>[1], 'hnsw' | 'training' | 'extraFiles'> {
  const d = model.dimension
  const bytes = opts.bits / 8
  const il = model.itemLayout
  const ul = model.userLayout
  const nI = data.itemIds.length
  const isDedicated = new Uint8Array(nI)
  for (const i of il.dedicatedIds) isDedicated[i] = 1
  const catalog = new Int32Array(nI)
  let n = 0
  for (const i of il.dedicatedIds) catalog[n++] = i
  for (let i = 0; i < nI; i++) if (!isDedicated[i]) catalog[n++] = i
  const counts = itemCounts(matrix)
  const items: BundleItem[] = []
  const itemCodes = new Uint8Array(nI * bytes)
  const itemPopularity = new Float32Array(nI)
  for (let row = 0; row < nI; row++) {
    const i = catalog[row]
    const id = data.itemIds[i]
    items.push({ id, ...meta.get(id) })
    itemCodes.set(codes.itemCodes.subarray(i * bytes, (i + 1) * bytes), row * bytes)
    itemPopularity[row] = counts[i]
  }
  const rowOfItem = new Int32Array(nI)
  for (let row = 0; row < nI; row++) rowOfItem[catalog[row]] = row
  const users = Array.from(ul.dedicatedIds, (u) => data.userIds[u])
  // What each dedicated user interacted with in the matrix the model was fit on, as catalog rows:
  // the service leaves these out when excludeSeen is on.
  const seenIndptr = new Int32Array(users.length + 1)
  let seenCount = 0
  ul.dedicatedIds.forEach((u, row) => { seenCount += matrix.indptr[u + 1] - matrix.indptr[u]; seenIndptr[row + 1] = seenCount })
  const seenItems = new Int32Array(seenCount)
  ul.dedicatedIds.forEach((u, row) => {
    for (let q = matrix.indptr[u], o = seenIndptr[row]; q < matrix.indptr[u + 1]; q++, o++) seenItems[o] = rowOfItem[matrix.indices[q]]
  })
  const userCodes = new Uint8Array(users.length * bytes)
  ul.dedicatedIds.forEach((u, row) => userCodes.set(codes.userCodes.subarray(u * bytes, (u + 1) * bytes), row * bytes))
  const ku = ul.config.dedicatedRows
  const ki = il.config.dedicatedRows
  return {
    model: { id: opts.modelId, version: `${new Date().toISOString().replace(/[^0-9TZ]/g, '')}-s${opts.seed}` },
    dimension: d,
    codeBits: opts.bits,
    items,
    users,
    tables: { user: ul.config, item: il.config },
    ...(dr ? { deepRetrieval: structureForBundle(dr, catalog) } : {}),
    tensors: {
      itemCodes,
      userCodes,
      itemEmbeddings: model.itemParams.slice(0, ki * d),
      userEmbeddings: model.userParams.slice(0, ku * d),
      ...(il.config.sharedRows > 0 ? { itemSharedEmbeddings: model.itemParams.slice(ki * d) } : {}),
      ...(ul.config.sharedRows > 0 ? { userSharedEmbeddings: model.userParams.slice(ku * d) } : {}),
      itemPopularity,
      userSeen: { indptr: seenIndptr, items: seenItems },
      ...(codes.userCodeProjection ? { userCodeProjection: codes.userCodeProjection } : {}),
    },
  }
}
