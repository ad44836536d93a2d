/**
 * Learning to Collide (Ghaemmaghami et al., "Learning to Collide: Recommendation System Model
 * Compression with Learned Hash Functions", Meta 2022): instead of letting a hash decide which ids
 * share a row, ids whose embeddings are alike are made to collide. The most frequent ids keep their
 * own rows (as in frequency + double hashing); the rest are clustered by a size-bounded spherical
 * k-means of a small iALS embedding (d = 8, a few epochs through full tables, normalised) into the
 * remaining B rows, one row each.
 */
import { DEFAULT_MF_OPTIONS, trainHashedMf, type MfOptions } from '../hashed-mf.js'
import { frequencyOrder } from '../table-layout.js'
import { identityLayout, type RowAssignment } from './assignment.js'
import { boundedSphericalKMeans, normalizeRows } from './balanced-kmeans.js'
import { rowCounts, type MappingInput } from './input.js'

export const L2C_DEFAULTS = {
  dedicatedShare: 0.5,
  dimension: 8,
  epochs: 4,
  /** Cluster size bound: this times ceil(tail / B); 1 forces equal sizes. */
  capacityFactor: 1.5,
  iterations: 6,
} as const

/** Vectors of this side's ids from a small iALS over full tables (this side as the "users"). */
export async function l2cEmbedding (input: MappingInput, dimension: number, epochs: number): Promise<Float32Array> {
  const opts: MfOptions = { ...DEFAULT_MF_OPTIONS, ...input.embedding, dimension, epochs, seed: input.seed, threads: input.threads }
  const model = await trainHashedMf(input.matrix, identityLayout(input.matrix.rows), identityLayout(input.matrix.cols), opts, input.pool)
  return model.userVectors
}

export async function l2cAssignment (input: MappingInput): Promise<RowAssignment> {
  const n = input.ids.length
  const share = input.dedicatedShare ?? L2C_DEFAULTS.dedicatedShare
  const order = frequencyOrder(rowCounts(input.matrix))
  const k = Math.min(n, Math.floor(input.rows * share))
  const b = Math.max(1, input.rows - k)
  const rows = new Int32Array(2 * n).fill(-1)
  for (let r = 0; r < k; r++) rows[2 * order[r]] = r
  const tail = order.subarray(k)
  if (tail.length === 0) return { dedicatedRows: k, sharedRows: 0, rows }
  const d = L2C_DEFAULTS.dimension
  const all = await l2cEmbedding(input, d, L2C_DEFAULTS.epochs)
  const x = new Float32Array(tail.length * d)
  tail.forEach((id, t) => x.set(all.subarray(id * d, id * d + d), t * d))
  normalizeRows(x, tail.length, d)
  const capacity = Math.max(1, Math.ceil(L2C_DEFAULTS.capacityFactor * Math.ceil(tail.length / b)))
  const cluster = boundedSphericalKMeans(x, tail.length, d, { clusters: b, capacity, iterations: L2C_DEFAULTS.iterations, seed: input.seed })
  tail.forEach((id, t) => { rows[2 * id] = k + cluster[t] })
  return { dedicatedRows: k, sharedRows: b, rows }
}
