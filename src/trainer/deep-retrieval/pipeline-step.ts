/**
 * The trainer's Deep Retrieval step: train the structure on the served model's vectors and the
 * training pairs, evaluate it against exhaustive inner product over the same vectors on a seeded
 * sample of test users, and pick the served beam from that curve.
 */
import type { Csr } from '../csr.js'
import { createDeepRetrievalIndex } from '../../search/deep-retrieval/engine.js'
import { DR_LIMITS } from '../../bundle-format/deep-retrieval.js'
import { TrainerInputError } from '../read-interactions.js'
import { sampleTestUsers } from '../split.js'
import { evaluateDeepRetrieval, type DeepRetrievalEvaluation } from './evaluate.js'
import { defaultDeepRetrievalOptions, type DeepRetrievalOptions } from './options.js'
import { trainDeepRetrieval, type DeepRetrievalModel } from './train.js'

/** Flags' overrides of the defaults chosen by catalog size. */
export type DeepRetrievalOverrides = Partial<Omit<DeepRetrievalOptions, 'seed'>>

/** Cut-off of the report: Recall@20 / NDCG@20, the Gowalla protocol's K. */
export const DR_EVAL_K = 20
/** Users the evaluation ranks at most (seeded sample): each costs an exhaustive scan of the catalog. */
export const DR_EVAL_USERS = 5000
/** The beam curve in the report (and eval.svg). */
export const DR_EVAL_BEAMS = [4, 8, 16, 32, 64, 128, 256] as const
/** The served beam is the smallest evaluated one within this share of exhaustive Recall@20. */
export const DR_BEAM_RECALL_SHARE = 0.98

export interface DeepRetrievalStepInput {
  readonly dimension: number
  readonly userVectors: Float32Array
  readonly itemVectors: Float32Array
  readonly train: Csr
  /** Held-out interactions to evaluate against; null skips the evaluation (an export-only retrain). */
  readonly test: Csr | null
  /** deepRetrievalOptionsFor(...) of this catalog. */
  readonly options: DeepRetrievalOptions
  /** A beam fixed by the caller; otherwise chosen from the evaluation. */
  readonly beam?: number
  readonly log: (msg: string) => void
  readonly warmStart?: Pick<DeepRetrievalModel, 'network' | 'itemKeys'>
  /** EM rounds of a warm-started retrain. */
  readonly warmRounds?: number
}

export interface DeepRetrievalStepResult {
  readonly model: DeepRetrievalModel
  readonly options: DeepRetrievalOptions
  readonly evaluation: DeepRetrievalEvaluation | null
  /** The beam written to the bundle. */
  readonly beam: number
  readonly trainMs: number
  readonly evalMs: number
}

/** The trainer builds the M-step's path counts densely: width^depth int32s. */
export const DR_TRAIN_MAX_PATHS = 2 ** 24

/** The defaults for this catalog with the flags' overrides; TrainerInputError for a shape the trainer cannot build. */
export function deepRetrievalOptionsFor (items: number, overrides: DeepRetrievalOverrides, seed: number): DeepRetrievalOptions {
  const defaults = defaultDeepRetrievalOptions(items, seed)
  const width = overrides.width ?? defaults.width
  const o = { ...defaults, pathsPerItem: Math.min(defaults.pathsPerItem, width), ...overrides, seed }
  if (o.width ** o.depth > DR_TRAIN_MAX_PATHS) throw new TrainerInputError(`Deep Retrieval: width^depth = ${o.width}^${o.depth} exceeds the trainer's ${DR_TRAIN_MAX_PATHS} paths`)
  // The k-means start puts an item's further paths on its last-layer siblings.
  if (o.pathsPerItem > o.width) throw new TrainerInputError(`Deep Retrieval: ${o.pathsPerItem} paths per item need at least as many nodes per layer, got ${o.width}`)
  return o
}

export function runDeepRetrievalStep (input: DeepRetrievalStepInput): DeepRetrievalStepResult {
  const items = input.train.cols
  const options = input.warmStart ? { ...input.options, rounds: input.warmRounds ?? 1 } : input.options
  const model = trainDeepRetrieval({ dimension: input.dimension, userVectors: input.userVectors, itemVectors: input.itemVectors, pairs: input.train }, options, input.log, input.warmStart)
  if (input.test === null) return { model, options, evaluation: null, beam: options.beam, trainMs: model.stats.trainMs, evalMs: 0 }
  const t0 = performance.now()
  const index = createDeepRetrievalIndex(model.network, model.itemKeys, items, options.beam)
  const evaluation = evaluateDeepRetrieval({
    dimension: input.dimension, userVectors: input.userVectors, itemVectors: input.itemVectors, train: input.train,
    test: sampleTestUsers(input.test, DR_EVAL_USERS, options.seed), index, beams: DR_EVAL_BEAMS, k: DR_EVAL_K, maxBeam: DR_LIMITS.maxBeam,
  })
  const evalMs = performance.now() - t0
  const beam = input.beam ?? chooseBeam(evaluation, options.beam)
  return { model, options, evaluation, beam, trainMs: model.stats.trainMs, evalMs }
}

/** The smallest evaluated beam within DR_BEAM_RECALL_SHARE of exhaustive Recall@K, else `fallback`. */
export function chooseBeam (e: DeepRetrievalEvaluation, fallback: number): number {
  for (const b of e.beams) if (b.recall >= DR_BEAM_RECALL_SHARE * e.exhaustive.recall && b.fallbacks === 0) return b.beam
  return fallback
}
