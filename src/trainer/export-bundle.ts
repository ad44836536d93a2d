/**
 * The served variant as bundle input (docs/model-bundle.md): the catalog most frequent first, the
 * item table as trained (its dedicated rows a catalog prefix for frequency + double hashing, a
 * learned mapping's rows per catalog line otherwise), users stored (a row per dedicated user) or
 * solved (every user listed with their items and code, no vector).
 */
import type { writeBundle, BundleItem } from '../model-loader/write-bundle.js'
import type { ItemMeta } from '../model-loader/model.js'
import { U16_MAPPING_MAX_ROWS } from '../bundle-format/tensors.js'
import type { Csr } from './csr.js'
import { itemCounts } from './evaluate.js'
import type { Interactions } from './read-interactions.js'
import { frequencyOrder, type TableLayout } from './table-layout.js'
import type { TrainedVariant } from './variant.js'
import type { DeepRetrievalStepResult } from './deep-retrieval/pipeline-step.js'
import { structureForBundle } from './deep-retrieval/trainer-stage.js'
import { mappingTensor } from './mappings/assignment.js'

type BundleInput = Parameters<typeof writeBundle>[1]
interface Codes { readonly userCodes: Uint8Array, readonly itemCodes: Uint8Array, readonly userCodeProjection: Float32Array | null }

/** Catalog rows -> dense item ids: a hashed table's dedicated ids first (the loader's prefix rule), otherwise most frequent first. */
function catalogOrder (layout: TableLayout, counts: Float32Array): Int32Array {
  if (layout.config.learnedMapping) return frequencyOrder(counts)
  const n = counts.length
  const isDedicated = new Uint8Array(n)
  for (const i of layout.dedicatedIds) isDedicated[i] = 1
  const catalog = new Int32Array(n)
  let k = 0
  for (const i of layout.dedicatedIds) catalog[k++] = i
  for (let i = 0; i < n; i++) if (!isDedicated[i]) catalog[k++] = i
  return catalog
}

/** The learned mapping's I32 [items, c] array in catalog order (-1: no second row). */
function rowMap (layout: TableLayout, catalog: Int32Array): { rows: Int32Array, columns: 1 | 2, dtype: 'I32' | 'U16' } {
  const { data, shape } = mappingTensor(layout)
  const columns = shape[1] as 1 | 2
  const rows = new Int32Array(catalog.length * columns)
  catalog.forEach((i, row) => rows.set(data.subarray(i * columns, (i + 1) * columns), row * columns))
  return { rows, columns, dtype: layout.rows <= U16_MAPPING_MAX_ROWS ? 'U16' : 'I32' }
}

/**
 * Each user's items in `matrix` ordered oldest first by their latest interaction (timestamp, file
 * position on ties or without timestamps): the service folds in the most recent entries of a long
 * list (docs/model-bundle.md, user_seen), so the list must end with the newest.
 */
export function byRecency (data: Interactions, matrix: Csr): Int32Array {
  const lastTs = new Float64Array(matrix.indices.length)
  const lastK = new Int32Array(matrix.indices.length)
  const ts = data.timestamps
  for (let k = 0; k < data.count; k++) {
    const u = data.users[k]
    let lo = matrix.indptr[u]
    let hi = matrix.indptr[u + 1] - 1
    const item = data.items[k]
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const x = matrix.indices[mid]
      if (x === item) {
        // Later rows win ties, as the time split orders them (split.ts).
        const t = ts === null ? 0 : ts[k]
        if (t >= lastTs[mid]) { lastTs[mid] = t; lastK[mid] = k }
        break
      }
      if (x < item) lo = mid + 1
      else hi = mid - 1
    }
  }
  const order = Int32Array.from({ length: matrix.indices.length }, (_, p) => p)
  for (let u = 0; u < matrix.rows; u++) order.subarray(matrix.indptr[u], matrix.indptr[u + 1]).sort((a, b) => (lastTs[a] - lastTs[b]) || (lastK[a] - lastK[b]))
  return order
}

/** The users listed in the bundle (dense ids, row order) and what each interacted with, as catalog rows, oldest first. */
function listedUsers (v: TrainedVariant, data: Interactions, matrix: Csr, rowOfItem: Int32Array): { listed: Int32Array, seen: { indptr: Int32Array, items: Int32Array } } {
  const order = byRecency(data, matrix)
  const listed = v.config.userVectors === 'solved' ? Int32Array.from({ length: matrix.rows }, (_, u) => u) : v.model.userLayout.dedicatedIds
  const indptr = new Int32Array(listed.length + 1)
  listed.forEach((u, row) => { indptr[row + 1] = indptr[row] + matrix.indptr[u + 1] - matrix.indptr[u] })
  const items = new Int32Array(indptr[listed.length])
  listed.forEach((u, row) => {
    for (let q = matrix.indptr[u], o = indptr[row]; q < matrix.indptr[u + 1]; q++, o++) items[o] = rowOfItem[matrix.indices[order[q]]]
  })
  return { listed, seen: { indptr, items } }
}

export function bundleInputOf (data: Interactions, meta: Map<string, ItemMeta>, v: TrainedVariant, codes: Codes, matrix: Csr, o: { modelId: string, seed: number, bits: number }, dr: DeepRetrievalStepResult | null): Omit<BundleInput, 'hnsw' | 'training' | 'extraFiles' | 'foldIn'> {
  const d = v.model.dimension
  const bytes = o.bits / 8
  const il = v.model.itemLayout
  const ul = v.model.userLayout
  const nI = data.itemIds.length
  const counts = itemCounts(matrix)
  const catalog = catalogOrder(il, counts)
  const rowOfItem = new Int32Array(nI)
  catalog.forEach((i, row) => { rowOfItem[i] = row })
  const items: BundleItem[] = []
  const itemCodes = new Uint8Array(nI * bytes)
  const itemPopularity = new Float32Array(nI)
  catalog.forEach((i, row) => {
    const id = data.itemIds[i]
    items.push({ id, ...meta.get(id) })
    itemCodes.set(codes.itemCodes.subarray(i * bytes, (i + 1) * bytes), row * bytes)
    itemPopularity[row] = counts[i]
  })
  const { listed, seen } = listedUsers(v, data, matrix, rowOfItem)
  const userCodes = new Uint8Array(listed.length * bytes)
  listed.forEach((u, row) => userCodes.set(codes.userCodes.subarray(u * bytes, (u + 1) * bytes), row * bytes))
  const solved = v.config.userVectors === 'solved'
  const userTable = solved ? { ...ul.config, dedicatedRows: 0, sharedRows: 0, vectors: 'solved' as const } : ul.config
  const ku = solved ? 0 : ul.config.dedicatedRows
  const ki = il.config.dedicatedRows
  const p = v.model.itemParams
  return {
    model: { id: o.modelId, version: `${new Date().toISOString().replace(/[^0-9TZ]/g, '')}-s${o.seed}` },
    dimension: d,
    codeBits: o.bits as BundleInput['codeBits'],
    embeddingDtype: v.config.dtype,
    items,
    users: Array.from(listed, (u) => data.userIds[u]),
    tables: { user: userTable, item: il.config },
    ...(dr ? { deepRetrieval: structureForBundle(dr, catalog) } : {}),
    tensors: {
      itemCodes,
      userCodes,
      itemEmbeddings: p.slice(0, ki * d),
      userEmbeddings: v.model.userParams.slice(0, ku * d),
      ...(il.config.sharedRows > 0 ? { itemSharedEmbeddings: p.slice(ki * d) } : {}),
      ...(!solved && ul.config.sharedRows > 0 ? { userSharedEmbeddings: v.model.userParams.slice(ku * d) } : {}),
      ...(il.config.learnedMapping ? { itemRowMap: rowMap(il, catalog) } : {}),
      itemPopularity,
      userSeen: seen,
      ...(codes.userCodeProjection ? { userCodeProjection: codes.userCodeProjection } : {}),
    },
  }
}
