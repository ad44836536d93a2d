/**
 * The method a request that names none is served by, chosen from the held-out evaluation like the
 * budget: the hybrid (Hamming candidates, exact re-rank) when it keeps SERVING_METHOD_TOLERANCE of
 * the exact ranking's Recall@20, else Deep Retrieval at its served beam when it does, else exact
 * inner product (HNSW). On Gowalla 64-bit codes over 41k items keep too little for the hybrid's
 * 200 candidates (BENCHMARKS.md, quality on public data) while Deep Retrieval keeps ~0.98x.
 */
import type { DeepRetrievalReport } from './deep-retrieval/report-section.js'

export const SERVING_METHOD_TOLERANCE = 0.02

export type ServingMethod = 'hybrid' | 'dr' | 'mips'

export interface ServingMethodChoice {
  readonly method: ServingMethod
  /** Each candidate's Recall@20 relative to the exact ranking of the same vectors. */
  readonly hybridRatio: number
  readonly drRatio: number | null
}

export function chooseServingMethod (exactRecall: number, twoStageRecall: number, dr: DeepRetrievalReport | undefined): ServingMethodChoice {
  const hybridRatio = exactRecall > 0 ? twoStageRecall / exactRecall : 1
  const served = dr?.beams.find((b) => b.beam === dr.servedBeam)
  const drRatio = dr && served && dr.exhaustive.recall > 0 ? served.recall / dr.exhaustive.recall : null
  const method: ServingMethod = hybridRatio >= 1 - SERVING_METHOD_TOLERANCE
    ? 'hybrid'
    : drRatio !== null && drRatio >= 1 - SERVING_METHOD_TOLERANCE ? 'dr' : 'mips'
  return { method, hybridRatio, drRatio }
}
