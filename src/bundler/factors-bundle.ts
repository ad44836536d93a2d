/**
 * Factors trained elsewhere (Spark MLlib's ALS, PyTorch, implicit, any numpy pipeline) into a
 * complete bundle: the same binary codes, seen items, Gram matrix, prebuilt HNSW index and
 * evaluation report as the trainer's own bundles, from the trainer's own code (learnCodes,
 * writeBundle, the evaluation), so a team whose logs outgrow one machine trains embeddings where
 * they train everything else and serves them here (docs/external-training.md).
 *
 * Every id keeps a dedicated row: the factors are dense, and hashing them into shared rows would
 * need a retraining. Ids the factors do not cover are served the way the trainer serves them: fold-in
 * from recent events, else trending, else popular items.
 */
import { learnCodes } from '../trainer/codes/learn-codes.js'
import { evaluateHamming, evaluateTwoStage, signCodesBaseline } from '../trainer/code-ranking.js'
import { csrFromPairs, type Csr } from '../trainer/csr.js'
import { dotScorer, evaluateScores, itemCounts, type Metrics } from '../trainer/evaluate.js'
import { readItemMetadata } from '../trainer/item-metadata.js'
import { reportMarkdown, reportSvg, type Report, type VariantResult } from '../trainer/report.js'
import { sampleTestUsers } from '../trainer/split.js'
import { tableSeeds } from '../trainer/table-layout.js'
import type { CodeBits, FoldInInput, Manifest, TableConfig } from '../bundle-format/manifest.js'
import type { ItemMeta } from '../model-loader/model.js'
import { writeBundle, type BundleItem } from '../model-loader/write-bundle.js'
import { BundleInputError } from './errors.js'
import { readIdList } from './id-list.js'
import { readMappedLog, type MappedLog } from './mapped-log.js'
import { readNpyMatrix, type NpyMatrix } from './npy.js'

export interface FactorsBundleOptions {
  readonly itemFactors: string
  readonly userFactors: string
  /** Ids of the item factor rows, in row order. */
  readonly items: string
  readonly users: string
  /** The training log (user, item[, rating, timestamp]): seen items, popularity, the codes' data. */
  readonly interactions?: string
  /** Held-out interactions: with `interactions`, an evaluation report ships with the bundle. */
  readonly test?: string
  /** Display metadata (id, title, tags), as the trainer's --items. */
  readonly itemMetadata?: string
  readonly out: string
  readonly bits: CodeBits
  /** 'learned': discrete optimization (the trainer's codes); 'sign': sign of the first `bits` factor coordinates. */
  readonly codes: 'learned' | 'sign'
  readonly seed: number
  readonly threads: number
  readonly modelId: string
  /** The confidence weight and ridge the factors were trained with, for the service's fold-in. */
  readonly foldIn?: FoldInInput
  readonly k: number
  readonly evalUsers: number
  readonly log?: (msg: string) => void
}

export interface FactorsBundleResult {
  readonly manifest: Manifest
  readonly report: Report | null
  readonly timings: Record<string, number>
}

// The trainer's index parameters ('ip' beat the l2-mips reduction at every ef: BENCHMARKS.md).
const HNSW = { space: 'ip', M: 16, efConstruction: 200, efSearch: 64, randomSeed: 100, prebuild: true } as const

async function factors (path: string, idsPath: string, what: 'item' | 'user'): Promise<{ m: NpyMatrix, ids: string[] }> {
  const [m, ids] = await Promise.all([readNpyMatrix(path), readIdList(idsPath)])
  if (m.rows !== ids.length) throw new BundleInputError(`${path} has ${m.rows} ${what} rows but ${idsPath} lists ${ids.length} ids`)
  return { m, ids }
}

function table (rows: number, seed: number, which: 'user' | 'item'): TableConfig {
  return { dedicatedRows: rows, sharedRows: 0, aggregation: 'sum', hash: { function: 'murmur3_x86_32', seeds: tableSeeds(seed, which) } }
}

/** For sign codes: P with P[j][j] = 1, so the service's sign(v P) for a folded-in user matches the item codes' rule. */
function signProjection (dimension: number, bits: number): Float32Array {
  const p = new Float32Array(dimension * bits)
  for (let j = 0; j < bits; j++) p[j * bits + j] = 1
  return p
}

function variant (name: string, kind: VariantResult['kind'], m: Metrics, fullBytes: number, bytes: number, evalMs: number, trainMs?: number): VariantResult {
  return { name, kind, recall: m.recallFull, ndcg: m.ndcg, recall10: m.recall10, users: m.users, bytes, share: bytes / fullBytes, evalMs, ...(trainMs === undefined ? {} : { trainMs }) }
}

/** Popularity, the factors (exact inner products), the codes by Hamming distance, and the two-stage ranking, on the same users. */
function evaluate (train: Csr, testAll: Csr, o: FactorsBundleOptions, u: NpyMatrix, v: NpyMatrix, userCodes: Uint8Array, itemCodes: Uint8Array, codesMs: number): Report {
  const d = u.cols
  const test = sampleTestUsers(testAll, o.evalUsers, o.seed)
  const variants: VariantResult[] = []
  const timed = (f: () => Metrics): [Metrics, number] => { const t = performance.now(); const m = f(); return [m, performance.now() - t] }
  const popularity = itemCounts(train)
  const [pop, popMs] = timed(() => evaluateScores(train, test, o.k, (_u, s) => s.set(popularity)))
  const fullBytes = (u.rows + v.rows) * d * 4
  variants.push(variant('popularity', 'popularity', pop, fullBytes, v.rows * 4, popMs))
  const factorsName = 'external factors (exact inner product)'
  const [real, realMs] = timed(() => evaluateScores(train, test, o.k, dotScorer(u.data, v.data, d)))
  variants.push(variant(factorsName, 'full', real, fullBytes, fullBytes, realMs))
  const codeBytes = (u.rows + v.rows) * o.bits / 8
  const [ham, hamMs] = timed(() => evaluateHamming(train, test, o.k, userCodes, itemCodes, o.bits))
  variants.push(variant(`${o.codes} codes ${o.bits}-bit, Hamming`, 'codes', ham, fullBytes, codeBytes, hamMs, codesMs))
  const [two, twoMs] = timed(() => evaluateTwoStage(train, test, o.k, userCodes, itemCodes, o.bits, u.data, v.data, d, 200))
  variants.push(variant('two-stage (Hamming top-200, factors re-rank)', 'two-stage', two, fullBytes, codeBytes + fullBytes, twoMs))
  return {
    dataset: { interactions: o.interactions, test: o.test, users: u.rows, items: v.rows, trainInteractions: train.indptr[train.rows], testInteractions: test.indptr[test.rows], evaluatedUsers: pop.users },
    split: `given: --interactions for training, --test held out (${o.test})`,
    servedModel: 'The served model is the given factors; the numbers are theirs on the given test file.',
    metric: `Recall@${o.k} = |top-${o.k} ∩ test| / |test| and NDCG@${o.k} with binary gains over min(${o.k}, |test|) ideal hits (LightGCN's definitions); Recall@10 over min(10, |test|) alongside; all items not in the user's training interactions are ranked; averaged over users with test items.`,
    k: o.k,
    variants,
    selection: { mode: 'fixed', budget: 1, share: 1, bytes: fullBytes, ofFullRecall: 1 },
    timings: {},
    served: factorsName,
  }
}

export async function bundleFromFactors (o: FactorsBundleOptions): Promise<FactorsBundleResult> {
  const log = o.log ?? (() => {})
  const timings: Record<string, number> = {}
  let t = performance.now()
  const lap = (name: string): void => { const now = performance.now(); timings[name] = Math.round(now - t); t = now }

  const [items, users] = await Promise.all([factors(o.itemFactors, o.items, 'item'), factors(o.userFactors, o.users, 'user')])
  const d = items.m.cols
  if (users.m.cols !== d) throw new BundleInputError(`item factors are ${d} wide, user factors ${users.m.cols}: they must share a dimension`)
  if (d > 4096) throw new BundleInputError(`dimension ${d} is above the bundle format's 4096`)
  if (o.codes === 'sign' && o.bits > d) throw new BundleInputError(`--codes sign takes the signs of the first --bits coordinates: ${o.bits} bits need a dimension of at least ${o.bits}, the factors have ${d}`)
  if (o.test !== undefined && o.interactions === undefined) throw new BundleInputError('--test needs --interactions (the training interactions the ranking leaves out)')
  const meta = o.itemMetadata ? await readItemMetadata(o.itemMetadata) : new Map<string, ItemMeta>()
  const userRow = new Map(users.ids.map((id, r) => [id, r]))
  const itemRow = new Map(items.ids.map((id, r) => [id, r]))
  log(`factors: ${users.m.rows} users, ${items.m.rows} items, dimension ${d}`)
  lap('readFactorsMs')

  let train: MappedLog | null = null
  if (o.interactions) {
    train = await readMappedLog(o.interactions, userRow, itemRow)
    log(`interactions: ${train.used} mapped onto the factors, ${train.unmapped} name a user or item without factors, ${train.badRows} bad rows`)
    if (train.used === 0) throw new BundleInputError(`${o.interactions}: none of its interactions names a user and an item of the factors`)
  }
  const matrix = train?.matrix ?? csrFromPairs(users.m.rows, items.m.rows, new Int32Array(0), new Int32Array(0))
  lap('readInteractionsMs')

  let userCodes: Uint8Array
  let itemCodes: Uint8Array
  let projection: Float32Array | null
  const codesStart = performance.now()
  if (o.codes === 'sign') {
    userCodes = signCodesBaseline(users.m.data, users.m.rows, d, o.bits)
    itemCodes = signCodesBaseline(items.m.data, items.m.rows, d, o.bits)
    projection = signProjection(d, o.bits)
  } else {
    const learned = await learnCodes({ users: users.m.rows, items: items.m.rows, dimension: d, bits: o.bits, userVectors: users.m.data, itemVectors: items.m.data, train: matrix, seed: o.seed, threads: o.threads, log })
    userCodes = learned.userCodes
    itemCodes = learned.itemCodes
    projection = learned.userCodeProjection
  }
  const codesMs = performance.now() - codesStart
  lap('codesMs')

  let report: Report | null = null
  if (o.test && train) {
    const test = await readMappedLog(o.test, userRow, itemRow)
    log(`test: ${test.used} interactions mapped, ${test.unmapped} without factors`)
    report = evaluate(matrix, test.matrix, o, users.m, items.m, userCodes, itemCodes, codesMs)
    log(reportMarkdown(report))
  }
  lap('evalMs')

  const bundleItems: BundleItem[] = items.ids.map((id) => ({ id, ...meta.get(id) }))
  const manifest = await writeBundle(o.out, {
    model: { id: o.modelId, version: `${new Date().toISOString().replace(/[^0-9TZ]/g, '')}-s${o.seed}` },
    dimension: d,
    codeBits: o.bits,
    items: bundleItems,
    users: users.ids,
    tables: { user: table(users.m.rows, o.seed, 'user'), item: table(items.m.rows, o.seed, 'item') },
    tensors: {
      itemCodes,
      userCodes,
      itemEmbeddings: items.m.data,
      userEmbeddings: users.m.data,
      ...(train ? { itemPopularity: itemCounts(matrix), userSeen: { indptr: matrix.indptr, items: matrix.indices } } : {}),
      ...(projection ? { userCodeProjection: projection } : {}),
    },
    ...(o.foldIn ? { foldIn: o.foldIn } : {}),
    hnsw: HNSW,
    training: {
      trainer: 'external factors, bundled by npm run bundle',
      inputs: { itemFactors: o.itemFactors, userFactors: o.userFactors, items: o.items, users: o.users, interactions: o.interactions ?? null, test: o.test ?? null },
      codes: { kind: o.codes, bits: o.bits, seed: o.seed },
      data: train ? { interactions: train.used, unmapped: train.unmapped } : { interactions: 0 },
      ...(report ? { eval: { metric: report.metric, variants: report.variants.map((x) => ({ name: x.name, recall20: round4(x.recall), ndcg20: round4(x.ndcg), recall10: round4(x.recall10), bytes: x.bytes })) } } : {}),
    },
    ...(report ? { extraFiles: { 'eval.json': JSON.stringify(report, null, 2) + '\n', 'eval.md': reportMarkdown(report), 'eval.svg': reportSvg(report) } } : {}),
  })
  lap('writeMs')
  log(`wrote ${o.out}: ${manifest.counts.items} items, ${manifest.counts.users} users, ${Object.keys(manifest.files).join(', ')}`)
  return { manifest, report, timings }
}

function round4 (x: number): number {
  return Math.round(x * 10000) / 10000
}
