/** Deep Retrieval training options, and the defaults chosen by catalog size. */

export interface DeepRetrievalOptions {
  /** D: layers. */
  readonly depth: number
  /** K: nodes per layer. */
  readonly width: number
  /** J: paths per item. */
  readonly pathsPerItem: number
  /** e: node embedding width. */
  readonly embeddingDimension: number
  /** Hidden ReLU units per layer; 0 for a linear layer. */
  readonly hidden: number
  /** EM rounds after the first E-step (each: an M-step, then an E-step). */
  readonly rounds: number
  /** Passes over the training pairs in each E-step. */
  readonly epochs: number
  readonly learningRate: number
  readonly weightDecay: number
  /**
   * Users per SGD minibatch; null picks users / 256 within [4, 64], so a small log still gets a few
   * hundred steps per epoch (on 2,000 synthetic items and 600 users, 4 per batch reached recall@10
   * 0.95 at beam 8 where 64 per batch, 10 steps an epoch, reached 0.71).
   */
  readonly batchUsers: number | null
  /** Beam of the M-step's per-user search. */
  readonly mStepBeam: number
  readonly candidatesPerItem: number
  /** alpha of the path-size penalty; null picks 1 / (4 x mean items per used path)^3. */
  readonly penalty: number | null
  readonly mStepPasses: number
  /**
   * The (user, item) pairs the structure learns from: the training interactions (as in the paper),
   * the served model's best unseen items per user (`teacher`, the default), or both. Teacher pairs
   * teach the structure where the exhaustive answer lies: on Gowalla, for users left out of the
   * structure's training, beam 16 reached 0.997x of exhaustive Recall@20 scoring 0.62% of the
   * catalog, against 0.678x at 1.43% from interactions (npm run bench:dr -- --holdout 0.2).
   */
  readonly pairs: 'interactions' | 'teacher' | 'both'
  /** Teacher pairs per user. */
  readonly teacherPerUser: number
  /** Default beam of the served structure (requests may override it). */
  readonly beam: number
  readonly seed: number
}

/**
 * D = 3 as in the paper's experiments; K near the cube root of the catalog, so a path holds about
 * J items: the paper used K = 50 for MovieLens-20M (27k items) and K = 100 for Amazon Books. At
 * least 2 nodes; J = 3 as in both of the paper's settings, at most K.
 */
export function defaultDeepRetrievalOptions (items: number, seed = 42): DeepRetrievalOptions {
  const depth = 3
  const width = Math.max(2, Math.min(256, Math.round(Math.cbrt(Math.max(1, items)))))
  return {
    depth,
    width,
    pathsPerItem: Math.min(3, width),
    embeddingDimension: 16,
    hidden: 0,
    rounds: 3,
    epochs: 2,
    learningRate: 0.01,
    weightDecay: 0,
    batchUsers: null,
    mStepBeam: 16,
    candidatesPerItem: 16,
    penalty: null,
    mStepPasses: 2,
    pairs: 'teacher',
    teacherPerUser: 20,
    beam: 64,
    seed,
  }
}
