/**
 * Compressed sparse row matrix over dense int ids. Rows are users (or items after
 * `transposeCsr`), indices are sorted ascending within each row so that membership
 * tests and merges are linear.
 */
export interface Csr { readonly rows: number; readonly cols: number; readonly indptr: Int32Array; readonly indices: Int32Array; readonly values: Float32Array }

/**
 * Builds a CSR matrix from parallel (row, col, value) arrays. Duplicate (row, col)
 * pairs are merged by summing their values: repeated interactions add confidence.
 */
export function csrFromPairs (rows: number, cols: number, rowIdx: Int32Array, colIdx: Int32Array, values?: Float32Array, count = rowIdx.length): Csr {
  const counts = new Int32Array(rows + 1)
  for (let k = 0; k < count; k++) counts[rowIdx[k]! + 1]!++
  for (let r = 0; r < rows; r++) counts[r + 1]! += counts[r]!
  const fill = counts.slice(0, rows)
  const idx = new Int32Array(count)
  const val = new Float32Array(count)
  for (let k = 0; k < count; k++) {
    const p = fill[rowIdx[k]!]!++
    idx[p] = colIdx[k]!
    val[p] = values === undefined ? 1 : values[k]!
  }
  // Sort each row by column and merge duplicates in place.
  const indptr = new Int32Array(rows + 1)
  let out = 0
  const order: number[] = []
  for (let r = 0; r < rows; r++) {
    const start = counts[r]!
    const end = counts[r + 1]!
    indptr[r] = out
    order.length = 0
    for (let p = start; p < end; p++) order.push(p)
    order.sort((a, b) => idx[a]! - idx[b]!)
    const sortedIdx = order.map((p) => idx[p]!)
    const sortedVal = order.map((p) => val[p]!)
    for (let q = 0; q < sortedIdx.length; q++) {
      if (out > indptr[r]! && idx[out - 1] === sortedIdx[q]) {
        val[out - 1]! += sortedVal[q]!
      } else {
        idx[out] = sortedIdx[q]!
        val[out] = sortedVal[q]!
        out++
      }
    }
  }
  indptr[rows] = out
  return { rows, cols, indptr, indices: idx.slice(0, out), values: val.slice(0, out) }
}

/** The transpose (items x users for a users x items matrix); rows come out sorted. */
export function transposeCsr (m: Csr): Csr {
  const indptr = new Int32Array(m.cols + 1)
  const nnz = m.indptr[m.rows]!
  for (let p = 0; p < nnz; p++) indptr[m.indices[p]! + 1]!++
  for (let c = 0; c < m.cols; c++) indptr[c + 1]! += indptr[c]!
  const fill = indptr.slice(0, m.cols)
  const indices = new Int32Array(nnz)
  const values = new Float32Array(nnz)
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) {
      const q = fill[m.indices[p]!]!++
      indices[q] = r
      values[q] = m.values[p]!
    }
  }
  return { rows: m.cols, cols: m.rows, indptr, indices, values }
}

/** Whether (r, c) is stored; binary search over the sorted row. */
export function csrHas (m: Csr, r: number, c: number): boolean {
  let lo = m.indptr[r]!
  let hi = m.indptr[r + 1]! - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const v = m.indices[mid]!
    if (v === c) return true
    if (v < c) lo = mid + 1
    else hi = mid - 1
  }
  return false
}
