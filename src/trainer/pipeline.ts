/**
 * The offline trainer end to end: read the log, hold out what is evaluated (the time split or a
 * given test file), train the full model and the variants the budget needs, learn binary codes,
 * evaluate everything on the same held-out data, refit the chosen configuration on every
 * interaction, and export a bundle (tensors, catalog, HNSW index, eval.json / eval.md / eval.svg).
 */
import { join } from 'node:path'
import { writeBundle } from '../model-loader/write-bundle.js'
import type { CodeBits, Manifest } from '../bundle-format/manifest.js'
import { DEFAULT_HYBRID_CANDIDATES } from '../defaults.js'
import type { ItemMeta } from '../model-loader/model.js'
import { learnCodes } from './codes/learn-codes.js'
import { evaluateHamming, evaluateTwoStage, signCodesBaseline } from './code-ranking.js'
import type { Csr } from './csr.js'
import { evaluateScores, itemCounts } from './evaluate.js'
import { fullTableBytes } from './budget.js'
import { bundleInputOf } from './export-bundle.js'
import { runFrontier, type BudgetChoice, type FrontierScope, type Selection } from './frontier.js'
import { DEFAULT_MF_OPTIONS, MfWorkerPool, type MfOptions } from './hashed-mf.js'
import { heldOutData, type HeldOut } from './held-out.js'
import { readItemMetadata } from './item-metadata.js'
import { createProgress, type Progress } from './progress.js'
import { readInteractions, TrainerInputError, type Interactions, type ReadOptions } from './read-interactions.js'
import { reportMarkdown, reportSvg, type Report, type VariantResult } from './report.js'
import { fullMatrix } from './split.js'
import { metricsOf, trainVariant, type TrainedVariant, type VariantContext } from './variant.js'
import type { EmbeddingDtype, MappingKind, UserVectors } from './variant-config.js'
import type { DeepRetrievalOverrides, DeepRetrievalStepResult } from './deep-retrieval/pipeline-step.js'
import { createStructureStage } from './deep-retrieval/trainer-stage.js'
import { chooseServingMethod } from './serving-method.js'

export interface TrainerOptions {
  readonly input: string
  readonly out: string
  /** Optional item metadata file (id, title, tags). */
  readonly items?: string
  /** Evaluate on this file (same columns as the input) instead of the per-user time split. */
  readonly test?: string
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
  /** Share of the full float32 tables' bytes (budget.ts), 'auto' (chosen by held-out quality) or a byte cap. */
  readonly budget: BudgetChoice
  readonly mapping: MappingKind
  readonly userVectors: UserVectors
  readonly dtype: EmbeddingDtype
  /** Share of the item rows owned by the most frequent items when the table is smaller than the catalog. */
  readonly dedicatedShare?: number
  /** Which variants besides the served one are trained and reported (frontier.ts). */
  readonly scope: FrontierScope
  /** Retrain the served configuration on every interaction (test part included) before export. */
  readonly refit: boolean
  readonly modelId: string
  readonly k: number
  /** Evaluate on at most this many users with test items (a seeded sample; see sampleTestUsers). */
  readonly evalUsers: number
  /** Build the Deep Retrieval structure over the served vectors (overrides of the defaults chosen by catalog size), or false to skip it. */
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
  budget: 'auto',
  mapping: 'l2c',
  userVectors: 'solved',
  dtype: 'I8',
  scope: 'mapping',
  refit: true,
  modelId: 'default',
  k: 20,
  evalUsers: 20_000,
  deepRetrieval: {},
} as const satisfies Omit<TrainerOptions, 'input' | 'out'>

export interface TrainerResult {
  readonly report: Report
  readonly manifest: Manifest
  readonly timings: Record<string, number>
}

export async function runTrainer (opts: TrainerOptions): Promise<TrainerResult> {
  const pool = opts.threads > 1 ? new MfWorkerPool(opts.threads - 1) : undefined
  try {
    return await train(opts, pool)
  } finally {
    await pool?.close()
  }
}

interface Stage {
  readonly opts: TrainerOptions
  readonly log: (msg: string) => void
  readonly progress: Progress
  readonly timings: Record<string, number>
  readonly t0: number
}

async function readInputs (s: Stage): Promise<{ data: Interactions, meta: Map<string, ItemMeta>, held: HeldOut }> {
  const { opts, log } = s
  const data = await readInteractions(opts.input, opts.read)
  const meta = opts.items ? await readItemMetadata(opts.items) : new Map<string, ItemMeta>()
  for (const b of data.badRowSamples) log(`bad row: line ${b.line}: ${b.reason}`)
  if (data.badRows > data.badRowSamples.length) log(`... ${data.badRows - data.badRowSamples.length} more bad rows`)
  log(`read ${data.count} interactions (${data.userIds.length} users, ${data.itemIds.length} items, ${data.badRows} bad rows, ${data.belowThreshold} below the rating threshold)`)
  const held = await heldOutData(data, { ...(opts.test === undefined ? {} : { testFile: opts.test }), ...(opts.read ? { read: opts.read } : {}), evalUsers: opts.evalUsers, seed: opts.seed })
  if (held.skipped) log(`test file: ${held.test.indices.length} test interactions evaluated; skipped ${held.skipped.unknownUser} of users and ${held.skipped.unknownItem} of items training never saw, ${held.skipped.alreadyInTrain} already in training`)
  return { data, meta, held }
}

function variantContext (s: Stage, data: Interactions, pool: MfWorkerPool | undefined): VariantContext {
  const { opts, progress, t0 } = s
  const mf = (name: string): MfOptions => ({
    ...DEFAULT_MF_OPTIONS,
    dimension: opts.dimension, epochs: opts.epochs, alpha: opts.alpha, reg: opts.reg, regExponent: opts.regExponent, cgSteps: opts.cgSteps, seed: opts.seed, threads: opts.threads,
    onEpoch: ({ epoch, loss, elapsedMs }) => progress.update(`${name}: epoch ${epoch}/${opts.epochs} loss ${loss.toFixed(1)} elapsed ${(elapsedMs / 1000).toFixed(1)} s (total ${((performance.now() - t0) / 1000).toFixed(1)} s)`),
  })
  return { data, dimension: opts.dimension, seed: opts.seed, threads: opts.threads, pool, mf, k: opts.k }
}

type Codes = Awaited<ReturnType<typeof learnCodes>>

async function codesFor (s: Stage, v: TrainedVariant, matrix: Csr, data: Interactions): Promise<Codes> {
  const codes = await learnCodes({
    users: data.userIds.length, items: data.itemIds.length, dimension: s.opts.dimension, bits: s.opts.bits, userVectors: v.userVectors, itemVectors: v.itemVectors, train: matrix, seed: s.opts.seed, threads: s.opts.threads, log: (msg) => s.progress.update(msg),
  })
  s.progress.done()
  return codes
}

/** Hamming ranking by the served variant's codes (sign() baseline and learned) and the two-stage re-rank, each a report row. */
async function codeRows (s: Stage, v: TrainedVariant, held: HeldOut, data: Interactions, rows: VariantResult[]): Promise<Codes> {
  const { opts } = s
  const nU = data.userIds.length
  const nI = data.itemIds.length
  const d = opts.dimension
  const codeBytes = (nU + nI) * (opts.bits / 8)
  const fullBytes = rows.find((r) => r.kind === 'full')?.bytes ?? (nU + nI) * d * 4
  const row = (name: string, kind: VariantResult['kind'], m: Parameters<typeof metricsOf>[2], bytes: number, since: number, trainMs?: number): void => {
    rows.push(metricsOf(name, kind, m, bytes, bytes / fullBytes, performance.now() - since, trainMs))
  }
  const { train, test } = held
  let e = performance.now()
  if (opts.bits <= d) {
    const su = signCodesBaseline(v.userVectors, nU, d, opts.bits)
    const si = signCodesBaseline(v.itemVectors, nI, d, opts.bits)
    row(`sign() codes ${opts.bits}-bit (baseline)`, 'codes', evaluateHamming(train, test, opts.k, su, si, opts.bits), codeBytes, e)
  }
  const ct = performance.now()
  const codes = await codesFor(s, v, train, data)
  const codesMs = performance.now() - ct
  e = performance.now()
  const hamming = evaluateHamming(train, test, opts.k, codes.userCodes, codes.itemCodes, opts.bits)
  row(`learned codes ${opts.bits}-bit, Hamming`, 'codes', hamming, codeBytes, e, codesMs)
  e = performance.now()
  const twoStage = evaluateTwoStage(train, test, opts.k, codes.userCodes, codes.itemCodes, opts.bits, v.userVectors, v.itemVectors, d, DEFAULT_HYBRID_CANDIDATES)
  row(`two-stage (Hamming top-${DEFAULT_HYBRID_CANDIDATES}, ${v.name} re-rank)`, 'two-stage', twoStage, v.bytes + codeBytes, e)
  s.log(`codes: Hamming Recall@${opts.k} ${hamming.recallFull.toFixed(4)}, two-stage ${twoStage.recallFull.toFixed(4)} (${Math.round(codesMs)} ms)`)
  return codes
}

async function train (opts: TrainerOptions, pool: MfWorkerPool | undefined): Promise<TrainerResult> {
  const s: Stage = { opts, log: opts.log ?? (() => {}), progress: opts.progress ?? createProgress(), timings: {}, t0: performance.now() }
  const { log, timings, t0 } = s
  let t = performance.now()
  const lap = (name: string): void => { const now = performance.now(); timings[name] = Math.round(now - t); t = now }
  const { data, meta, held } = await readInputs(s)
  lap('parseMs')
  // Checked before any training: a structure the trainer cannot build is bad input.
  const structure = createStructureStage(opts.deepRetrieval, data.itemIds.length, opts.dimension, opts.seed, s.progress, log, timings)
  const ctx = variantContext(s, data, pool)
  const rows: VariantResult[] = []
  const e = performance.now()
  const popularity = itemCounts(held.train)
  rows.push(metricsOf('popularity', 'popularity', evaluateScores(held.train, held.test, opts.k, (_u, sc) => sc.set(popularity)), data.itemIds.length * 4, (data.itemIds.length * 4) / fullTableBytes(data.userIds.length, data.itemIds.length, opts.dimension), performance.now() - e))
  let selection: Selection
  try {
    selection = await runFrontier(ctx, held.train, held.test, { mapping: opts.mapping, userVectors: opts.userVectors, dtype: opts.dtype, ...(opts.dedicatedShare === undefined ? {} : { dedicatedShare: opts.dedicatedShare }) }, opts.budget, opts.scope, rows, log)
  } catch (err) {
    if (err instanceof RangeError) throw new TrainerInputError(err.message)
    throw err
  }
  lap('mfMs')
  const served = selection.served
  const codes = await codeRows(s, served, held, data, rows)
  lap('codesMs')

  // The held-out numbers describe the model trained without the test part; what is served is the
  // same configuration retrained on every interaction (unless --no-refit, or the test came as its own file).
  const refit = opts.refit && held.source === 'time-split'
  let exported = served
  let exportCodes = codes
  let exportMatrix = held.train
  if (refit) {
    exportMatrix = fullMatrix(data)
    exported = await trainVariant(ctx, { ...served.config, budget: selection.budget }, exportMatrix)
    s.progress.done()
    exportCodes = await codesFor(s, exported, exportMatrix, data)
    lap('refitMs')
  }
  // The structure routes the served vectors: evaluated on the held-out model's, retrained from it on the refit ones.
  const dr = structure?.evaluated(served, held.train, held.test) ?? null
  const exportDr = dr && structure!.exported(dr, exported, exportMatrix, refit)
  const drReport = dr ? structure!.report(dr) : undefined
  const serving = chooseServingMethod(selection.servedRow.recall, rows.find((r) => r.kind === 'two-stage')!.recall, drReport)
  log(`default method: ${serving.method} (hybrid keeps ${serving.hybridRatio.toFixed(3)}x of exact${serving.drRatio === null ? '' : `, Deep Retrieval ${serving.drRatio.toFixed(3)}x`})`)
  const report = { ...buildReport(opts, data, held, rows, selection, refit, timings, drReport), serving }
  timings.totalBeforeExportMs = Math.round(performance.now() - t0)
  const manifest = await writeBundle(opts.out, {
    ...bundleInputOf(data, meta, exported, exportCodes, exportMatrix, opts, exportDr),
    // The service's fold-in is this trainer's user step: same confidence and ridge.
    foldIn: { alpha: opts.alpha, reg: opts.reg, regExponent: opts.regExponent },
    serving: { defaultMethod: serving.method },
    // 'ip' beat the l2-mips reduction on this model at every ef (BENCHMARKS.md, retrieval engines).
    hnsw: { space: 'ip', M: 16, efConstruction: 200, efSearch: 64, randomSeed: 100, prebuild: true },
    training: trainingMetadata(opts, data, report, dr),
    extraFiles: { 'eval.json': JSON.stringify(report, null, 2) + '\n', 'eval.md': reportMarkdown(report), 'eval.svg': reportSvg(report) },
  })
  lap('exportMs')
  timings.totalMs = Math.round(performance.now() - t0)
  log(`wrote ${join(opts.out, 'manifest.json')} in ${timings.totalMs} ms total`)
  return { report, manifest, timings }
}

function buildReport (opts: TrainerOptions, data: Interactions, held: HeldOut, variants: VariantResult[], sel: Selection, refit: boolean, timings: Record<string, number>, dr: Report['deepRetrieval']): Report {
  return {
    dataset: { input: opts.input, interactions: data.count, users: data.userIds.length, items: data.itemIds.length, badRows: data.badRows, trainInteractions: held.train.indptr[held.train.rows], testInteractions: held.test.indptr[held.test.rows], evaluatedUsers: variants[0].users, ...(held.skipped ? { skippedTestRows: held.skipped } : {}) },
    split: held.description,
    servedModel: refit
      ? 'Every number here comes from the held-out split; the served model is the same configuration refit on every interaction, test part included.'
      : held.source === 'test-file' ? 'The served model is the evaluated one: every input interaction was training data.' : 'The served model is the evaluated one (--no-refit), trained without the held-out part.',
    metric: `Recall@${opts.k} = |top-${opts.k} ∩ test| / |test| and NDCG@${opts.k} with binary gains over min(${opts.k}, |test|) ideal hits (LightGCN's definitions); Recall@10 over min(10, |test|) alongside. Every item outside the user's training items is ranked; averaged over users with test items. Bytes: everything that produces user and item vectors, as a share of float32 tables with a row for every user and item.`,
    k: opts.k,
    variants,
    selection: { mode: sel.mode, budget: sel.budget, share: sel.servedRow.share, bytes: sel.servedRow.bytes, ...(sel.full ? { ofFullRecall: sel.servedRow.recall / sel.full.recall } : {}), ...(sel.tolerance === undefined ? {} : { tolerance: sel.tolerance }) },
    timings,
    served: sel.servedRow.name,
    ...(dr ? { deepRetrieval: dr } : {}),
  }
}

/** The manifest's `training`: what was trained, on what, and how it evaluated (GET /v1/model shows it). */
function trainingMetadata (opts: TrainerOptions, data: Interactions, report: Report, dr: DeepRetrievalStepResult | null): Record<string, unknown> {
  return {
    trainer: 'hashrec iALS through learned or hashed id-to-row mappings + learned binary codes',
    input: opts.input,
    ...(opts.test ? { test: opts.test } : {}),
    options: { seed: opts.seed, threads: opts.threads, dimension: opts.dimension, bits: opts.bits, epochs: opts.epochs, alpha: opts.alpha, reg: opts.reg, regExponent: opts.regExponent, cgSteps: opts.cgSteps, budget: opts.budget, mapping: opts.mapping, userVectors: opts.userVectors, dtype: opts.dtype, dedicatedShare: opts.dedicatedShare ?? 'default', refit: opts.refit, deepRetrieval: dr ? dr.options : false },
    data: { interactions: data.count, users: data.userIds.length, items: data.itemIds.length, badRows: data.badRows },
    eval: {
      split: report.split, servedModel: report.servedModel, metric: report.metric, served: report.served, selection: report.selection, serving: report.serving,
      variants: report.variants.map((v) => ({ name: v.name, recall20: round4(v.recall), ndcg20: round4(v.ndcg), recall10: round4(v.recall10), bytes: v.bytes, share: round4(v.share) })),
    },
    timings: report.timings,
  }
}

function round4 (x: number): number {
  return Math.round(x * 10000) / 10000
}
