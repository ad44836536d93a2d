import type { HybridTable } from '../hashing/hybrid-table.js'
import type { IdIndex } from './id-index.js'

/**
 * The item table's dictionary: catalog rows 0..K-1 own dedicated rows 0..K-1 (the bundle orders
 * the catalog most-frequent first), so an item's dedicated row is its catalog row when below K.
 */
export function dedicatedPrefix (dedicatedRows: number, rowOf: { get (id: string): number | undefined }): (id: string) => number | undefined {
  return (id) => {
    const row = rowOf.get(id)
    return row !== undefined && row < dedicatedRows ? row : undefined
  }
}

/** items x dimension: every catalog item resolved through the item table, in catalog order. */
export function materializeItemVectors (ids: Pick<IdIndex, 'size' | 'idAt'>, table: HybridTable): Float32Array {
  const d = table.dimension
  const out = new Float32Array(ids.size * d)
  for (let row = 0; row < ids.size; row++) table.resolveInto(ids.idAt(row), out, row * d)
  return out
}

/** V^T V (d x d) in double precision, the Gram matrix least-squares fold-in solves against. */
export function computeItemGram (vectors: Float32Array, count: number, d: number): Float64Array {
  const g = new Float64Array(d * d)
  for (let i = 0; i < count; i++) {
    const base = i * d
    for (let a = 0; a < d; a++) {
      const va = vectors[base + a]
      if (va === 0) continue
      for (let b = a; b < d; b++) g[a * d + b] += va * vectors[base + b]
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) g[a * d + b] = g[b * d + a]
  return g
}
