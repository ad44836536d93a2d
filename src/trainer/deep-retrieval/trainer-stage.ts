/**
 * The trainer's Deep Retrieval stage, as the pipeline calls it: the options checked before any
 * training, the structure trained and evaluated on the evaluated model's vectors, retrained from
 * it on the refit vectors when the export is refit, its report section, and its bundle tensors in
 * catalog row order.
 */
import type { DeepRetrievalStructure } from '../../bundle-format/deep-retrieval.js'
import { deepRetrievalTensors } from '../../model-loader/deep-retrieval-tensors.js'
import type { Csr } from '../csr.js'
import type { Progress } from '../progress.js'
import { deepRetrievalOptionsFor, runDeepRetrievalStep, type DeepRetrievalOverrides, type DeepRetrievalStepResult } from './pipeline-step.js'
import type { DeepRetrievalReport } from './report-section.js'

interface Vectors { readonly userVectors: Float32Array, readonly itemVectors: Float32Array }

export interface StructureStage {
  /** Trained on `model`'s vectors and `matrix`, evaluated against `held`. */
  evaluated (model: Vectors, matrix: Csr, held: Csr): DeepRetrievalStepResult
  /** The structure to export: `dr` itself, or with `refit`, retrained from it on the refit model's vectors. */
  exported (dr: DeepRetrievalStepResult, model: Vectors, matrix: Csr, refit: boolean): DeepRetrievalStepResult
  report (dr: DeepRetrievalStepResult): DeepRetrievalReport | undefined
}

/** Null when the structure is not built (--no-deep-retrieval); throws TrainerInputError for a shape the trainer cannot build. */
export function createStructureStage (overrides: DeepRetrievalOverrides | false, items: number, dimension: number, seed: number, progress: Progress, log: (msg: string) => void, timings: Record<string, number>): StructureStage | null {
  if (overrides === false) return null
  const options = deepRetrievalOptionsFor(items, overrides, seed)
  const run = (model: Vectors, matrix: Csr, held: Csr | null, warm?: DeepRetrievalStepResult): DeepRetrievalStepResult => {
    const t0 = performance.now()
    const result = runDeepRetrievalStep({
      dimension, userVectors: model.userVectors, itemVectors: model.itemVectors, train: matrix, test: held, options,
      log: (msg) => progress.update(msg), ...(overrides.beam === undefined ? {} : { beam: overrides.beam }), ...(warm ? { warmStart: warm.model } : {}),
    })
    progress.done()
    timings[warm ? 'deepRetrievalRefitMs' : 'deepRetrievalMs'] = Math.round(performance.now() - t0)
    return result
  }
  return {
    evaluated (model, matrix, held) {
      const dr = run(model, matrix, held)
      const e = dr.evaluation!
      log(`deep retrieval: ${e.beams.map((b) => `beam ${b.beam} Recall@${e.k} ${b.recall.toFixed(4)} (${(100 * b.catalogShare).toFixed(1)}% scored)`).join(', ')}; exhaustive ${e.exhaustive.recall.toFixed(4)}; serving beam ${dr.beam} (trained in ${Math.round(dr.trainMs)} ms)`)
      return dr
    },
    exported: (dr, model, matrix, refit) => refit ? { ...dr, model: run(model, matrix, null, dr).model } : dr,
    report: (dr) => dr.evaluation === null
      ? undefined
      : { ...dr.evaluation, shape: dr.model.network.shape, servedBeam: dr.beam, trainMs: Math.round(dr.trainMs), evalMs: Math.round(dr.evalMs), tensorBytes: structureTensorBytes(dr) },
  }
}

/** The structure with its item paths in catalog row order (row r holds internal item catalog[r]). */
export function structureForBundle (dr: DeepRetrievalStepResult, catalog?: Int32Array): DeepRetrievalStructure {
  const J = dr.model.network.shape.pathsPerItem
  const keys = dr.model.itemKeys
  if (catalog === undefined) return { network: dr.model.network, itemKeys: keys, beam: dr.beam }
  const itemKeys = new Int32Array(keys.length)
  for (let row = 0; row < catalog.length; row++) itemKeys.set(keys.subarray(catalog[row] * J, (catalog[row] + 1) * J), row * J)
  return { network: dr.model.network, itemKeys, beam: dr.beam }
}

/** Bytes of the structure's dr_* tensors in the bundle. */
export function structureTensorBytes (dr: DeepRetrievalStepResult): number {
  return Object.values(deepRetrievalTensors(structureForBundle(dr)).tensors).reduce((a, t) => a + t.data.byteLength, 0)
}
