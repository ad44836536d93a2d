/**
 * Deep Retrieval against exhaustive inner product on the same served vectors: Recall@K and NDCG@K
 * of the ranked lists (the trainer's definitions, evaluate.ts), and the share of the catalog each
 * query scored, at every beam size asked for. A query the structure cannot answer (fewer than K
 * eligible items even at the widest beam) is answered exhaustively, as the service would fall back,
 * and counts the whole catalog as scored.
 */
import { createHybridReranker } from '../../search/hybrid.js'
import { createDeepRetrievalSearch, type DeepRetrievalIndex } from '../../search/deep-retrieval/engine.js'
import type { Csr } from '../csr.js'
import { evaluateRanked, type Metrics } from '../evaluate.js'
import { createFullScan, csrRowExclusion } from './full-scan.js'

export interface BeamPoint {
  readonly beam: number
  readonly recall: number
  readonly ndcg: number
  /** Items scored per query (mean), and as a share of the catalog. */
  readonly candidates: number
  readonly catalogShare: number
  /** Queries that fell back to the exhaustive answer. */
  readonly fallbacks: number
  readonly msPerQuery: number
}

export interface DeepRetrievalEvaluation {
  readonly k: number
  readonly users: number
  readonly exhaustive: Pick<Metrics, 'recall' | 'ndcg'>
  readonly beams: readonly BeamPoint[]
}

export interface EvaluateInput {
  readonly dimension: number
  readonly userVectors: Float32Array
  readonly itemVectors: Float32Array
  readonly train: Csr
  readonly test: Csr
  readonly index: DeepRetrievalIndex
  readonly beams: readonly number[]
  readonly k: number
  readonly maxBeam: number
  /** Exhaustive metrics when the caller has them already (same vectors, users and K). */
  readonly exhaustive?: Pick<Metrics, 'recall' | 'ndcg'>
}

export function evaluateDeepRetrieval (input: EvaluateInput): DeepRetrievalEvaluation {
  const { dimension: n, userVectors, train, test, k } = input
  const items = { itemVectors: input.itemVectors, itemBias: null, dimension: n, itemCount: train.cols }
  const exclude = csrRowExclusion(train)
  const scan = createFullScan(items, train)
  const query = (u: number): Float32Array => userVectors.subarray(u * n, (u + 1) * n)
  const exact = (u: number, out: Int32Array): number => scan.topK(query(u), k, u, out)
  const exhaustive = input.exhaustive ?? evaluateRanked(train, test, k, exact)
  const rerank = createHybridReranker(items, false)
  const search = createDeepRetrievalSearch(items, input.index, rerank, input.maxBeam)
  const beams: BeamPoint[] = []
  let users = 0
  for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1] > test.indptr[u]) users++
  for (const beam of input.beams) {
    let scored = 0
    let fallbacks = 0
    const t0 = performance.now()
    const m = evaluateRanked(train, test, k, (u, out) => {
      exclude.user = u
      const top = search(query(u), { k, beam, exclude })
      if (top === null) {
        fallbacks++
        scored += train.cols
        return exact(u, out)
      }
      scored += top.candidatesExamined
      out.set(top.rows)
      return top.rows.length
    })
    const ms = (performance.now() - t0) / Math.max(1, users)
    const candidates = scored / Math.max(1, users)
    beams.push({ beam, recall: m.recall, ndcg: m.ndcg, candidates, catalogShare: candidates / Math.max(1, train.cols), fallbacks, msPerQuery: ms })
  }
  return { k, users, exhaustive: { recall: exhaustive.recall, ndcg: exhaustive.ndcg }, beams }
}
