/**
 * Cosine similarity of two catalog items' vectors: what diversity (MMR, the answer's mean pairwise
 * similarity) and explanations (the history item closest to a recommended one) compare items by,
 * whatever method retrieved them. Norms are the model's precomputed ones.
 */
export interface ItemVectors {
  readonly itemVectors: Float32Array
  readonly itemNorms: Float32Array
  readonly dimension: number
}

/** cos(v_a, v_b); 0 when either vector is zero. */
export function itemCosine (items: ItemVectors, a: number, b: number): number {
  const { itemVectors: v, dimension: d } = items
  const na = items.itemNorms[a]
  const nb = items.itemNorms[b]
  if (na === 0 || nb === 0) return 0
  const x = a * d
  const y = b * d
  // Four accumulators: V8 does not reassociate float adds, so one chain waits on add latency.
  let s0 = 0; let s1 = 0; let s2 = 0; let s3 = 0
  let j = 0
  for (; j + 4 <= d; j += 4) {
    s0 += v[x + j] * v[y + j]
    s1 += v[x + j + 1] * v[y + j + 1]
    s2 += v[x + j + 2] * v[y + j + 2]
    s3 += v[x + j + 3] * v[y + j + 3]
  }
  for (; j < d; j++) s0 += v[x + j] * v[y + j]
  return ((s0 + s1) + (s2 + s3)) / (na * nb)
}

/** Mean cosine over every pair of `rows` (0 for fewer than two): the diversity measure of an answer, lower is more diverse. */
export function meanPairwiseSimilarity (items: ItemVectors, rows: ArrayLike<number>): number {
  const n = rows.length
  if (n < 2) return 0
  let sum = 0
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) sum += itemCosine(items, rows[i], rows[j])
  return sum / (n * (n - 1) / 2)
}
