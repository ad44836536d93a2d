/**
 * Writes a model bundle (docs/model-bundle.md). Used by our trainer and by tests; external trainers
 * write the same files with numpy + safetensors. The bundle appears atomically: everything is
 * written into a sibling temporary directory that is renamed into place only when complete.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { buildHnswIndex } from './hnsw-index.js'
import { HybridTable, sharedWidth } from '../hashing/hybrid-table.js'
import { f16ArrayToF32, f32ArrayToF16 } from '../hashing/f16.js'
import { dequantizeRowsI8, quantizeRowsI8 } from '../hashing/int8-rows.js'
import { computeItemGram, dedicatedPrefix, materializeItemVectors } from './item-vectors.js'
import { encodeSafetensors, type TensorToWrite } from './safetensors.js'
import { FILE_NAMES, FORMAT_VERSION, ManifestSchema, type CodeBits, type EmbeddingStorage, type FoldInInput, type HnswConfig, type Manifest, type ServingConfig, type TableConfig } from '../bundle-format/manifest.js'
import type { ItemMeta } from './model.js'
import { scaleTensorName, TENSOR_NAMES, U16_MAPPING_MAX_ROWS, U16_NO_ROW } from '../bundle-format/tensors.js'
import { deepRetrievalTensors, type DeepRetrievalStructure } from './deep-retrieval-tensors.js'

export interface BundleItem extends ItemMeta {
  readonly id: string
}

export interface BundleInput {
  readonly model: { readonly id: string, readonly version: string }
  readonly createdAt?: string
  readonly dimension: number
  readonly codeBits: CodeBits
  /**
   * Storage dtype of the embedding tables (vectors are always given as F32). I8 quantizes each row
   * with `quantizeRowsI8` (src/hashing/int8-rows.ts) and writes its scales beside it.
   */
  readonly embeddingDtype?: EmbeddingStorage
  /** The catalog in row order; without a learned mapping the first `tables.item.dedicatedRows` items own the dedicated item rows. */
  readonly items: readonly BundleItem[]
  /**
   * The listed users (each with a learned code), in row order: with stored vectors and no learned
   * mapping, user i owns dedicated row i; with a mapping, the mapping's line i; with solved vectors
   * (`tables.user.vectors: 'solved'`), user_seen's row i.
   */
  readonly users: readonly string[]
  readonly tables: { readonly user: TableConfig, readonly item: TableConfig }
  readonly tensors: {
    /** items x codeBits/8, bit j in byte j >> 3 at position j & 7 (LSB first), 1 = +1. */
    readonly itemCodes: Uint8Array
    /** users x codeBits/8. */
    readonly userCodes: Uint8Array
    /** dedicatedRows x dimension (empty for solved user vectors). */
    readonly itemEmbeddings: Float32Array
    readonly userEmbeddings: Float32Array
    /** sharedRows x (dimension, or dimension / 2 for concat); omitted when sharedRows = 0. */
    readonly itemSharedEmbeddings?: Float32Array
    readonly userSharedEmbeddings?: Float32Array
    readonly itemBias?: Float32Array
    /** items: interaction counts (or any popularity score), for the cold-start fallback. */
    readonly itemPopularity?: Float32Array
    /** dimension x codeBits, row-major. */
    readonly userCodeProjection?: Float32Array
    /**
     * The items each dedicated user interacted with in training (CSR: users + 1 offsets into
     * item rows), so `excludeSeen` can leave them out.
     */
    readonly userSeen?: { readonly indptr: Int32Array, readonly items: Int32Array }
    /**
     * The learned id -> row mapping of a table whose manifest has `learnedMapping` (written under
     * its `tensor` name): items (or users) x columns, row-major, each value a row of [K dedicated |
     * B shared]; with 2 columns, -1 in the second means one row.
     */
    readonly itemRowMap?: RowMapInput
    readonly userRowMap?: RowMapInput
  }
  readonly foldIn?: FoldInInput
  /** A Deep Retrieval structure over this catalog (item keys in catalog row order). */
  readonly deepRetrieval?: DeepRetrievalStructure
  /** HNSW parameters; with `prebuild` the index is built now and shipped as items.hnsw. */
  readonly hnsw?: HnswConfig & { readonly prebuild?: boolean }
  /** How the service answers by default (the manifest's `serving`); absent: hybrid. 'dr' needs `deepRetrieval`. */
  readonly serving?: ServingConfig
  readonly training?: Record<string, unknown>
  /** Extra files to ship (e.g. eval.json), name -> contents; listed in the manifest like the rest. */
  readonly extraFiles?: Readonly<Record<string, string | Uint8Array>>
}

export interface RowMapInput {
  /** -1 in column 1: no second row (whatever the stored dtype). */
  readonly rows: Int32Array
  readonly columns: 1 | 2
  /**
   * Stored dtype (default I32). U16 halves the mapping's bytes and needs K + B <= 65535
   * (U16_MAPPING_MAX_ROWS); -1 is written as 65535 (U16_NO_ROW).
   */
  readonly dtype?: 'I32' | 'U16'
}

/**
 * The I32 mapping as U16: -1 becomes U16_NO_ROW. A value that does not fit would wrap into a
 * valid-looking row the loader cannot refuse, so it throws here; range against K + B is the
 * loader's check, as for I32.
 */
function mappingAsU16 (which: string, rows: Int32Array): Uint16Array {
  const out = new Uint16Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]
    if (v < -1 || v >= U16_NO_ROW) throw new Error(`${which}RowMap: value ${v} at ${i} does not fit a U16 mapping`)
    out[i] = v === -1 ? U16_NO_ROW : v
  }
  return out
}

/** The mapping tensor of one table, checked against its manifest entry (the loader refuses the rest). */
function rowMapTensor (which: 'item' | 'user', table: TableConfig, map: RowMapInput | undefined, listed: number): [string, TensorToWrite] | null {
  if (!table.learnedMapping) {
    if (map) throw new Error(`${which}RowMap given but tables.${which} has no learnedMapping`)
    return null
  }
  if (!map) throw new Error(`tables.${which}.learnedMapping needs tensors.${which}RowMap`)
  if (map.rows.length !== listed * map.columns) throw new Error(`${which}RowMap holds ${map.rows.length} values, expected ${listed} x ${map.columns}`)
  const shape = [listed, map.columns]
  if (map.dtype !== 'U16') return [table.learnedMapping.tensor, { dtype: 'I32', shape, data: map.rows }]
  const total = table.dedicatedRows + table.sharedRows
  if (total > U16_MAPPING_MAX_ROWS) throw new Error(`${which}RowMap: a U16 mapping addresses at most ${U16_MAPPING_MAX_ROWS} rows, tables.${which} has ${total}; use I32`)
  return [table.learnedMapping.tensor, { dtype: 'U16', shape, data: mappingAsU16(which, map.rows) }]
}

function sha256 (data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * One embedding table's tensors at the storage dtype (I8 adds its `<name>_scale`), and its values
 * as the loader will see them: F16 and I8 storage round, so the Gram matrix and the prebuilt index
 * must be built from the rounded values.
 */
function storedTable (name: string, data: Float32Array, rows: number, width: number, dtype: EmbeddingStorage): { tensors: Record<string, TensorToWrite>, values: Float32Array } {
  const shape = [rows, width]
  if (dtype === 'F16') {
    const half = f32ArrayToF16(data)
    return { tensors: { [name]: { dtype: 'F16', shape, data: half } }, values: f16ArrayToF32(half) }
  }
  if (dtype === 'I8') {
    const { q, scale } = quantizeRowsI8(data, rows, width)
    return {
      tensors: { [name]: { dtype: 'I8', shape, data: q }, [scaleTensorName(name)]: { dtype: 'F32', shape: [rows], data: scale } },
      values: dequantizeRowsI8(q, scale, width),
    }
  }
  return { tensors: { [name]: { dtype: 'F32', shape, data } }, values: data }
}

export async function writeBundle (dir: string, input: BundleInput): Promise<Manifest> {
  const bytesPerCode = input.codeBits / 8
  const dtype = input.embeddingDtype ?? 'F32'
  const { tensors, tables, dimension } = input
  const itemDedicated = storedTable(TENSOR_NAMES.itemEmbeddings, tensors.itemEmbeddings, tables.item.dedicatedRows, dimension, dtype)
  const t: Record<string, TensorToWrite> = {
    [TENSOR_NAMES.itemCodes]: { dtype: 'U8', shape: [input.items.length, bytesPerCode], data: tensors.itemCodes },
    [TENSOR_NAMES.userCodes]: { dtype: 'U8', shape: [input.users.length, bytesPerCode], data: tensors.userCodes },
    ...itemDedicated.tensors,
    ...storedTable(TENSOR_NAMES.userEmbeddings, tensors.userEmbeddings, tables.user.dedicatedRows, dimension, dtype).tensors,
  }
  let itemShared: Float32Array = new Float32Array(0)
  if (tables.item.sharedRows > 0) {
    if (!tensors.itemSharedEmbeddings) throw new Error('item table has shared rows but no itemSharedEmbeddings')
    const stored = storedTable(TENSOR_NAMES.itemSharedEmbeddings, tensors.itemSharedEmbeddings, tables.item.sharedRows, sharedWidth(tables.item, dimension), dtype)
    Object.assign(t, stored.tensors)
    itemShared = stored.values
  }
  if (tables.user.sharedRows > 0) {
    if (!tensors.userSharedEmbeddings) throw new Error('user table has shared rows but no userSharedEmbeddings')
    Object.assign(t, storedTable(TENSOR_NAMES.userSharedEmbeddings, tensors.userSharedEmbeddings, tables.user.sharedRows, sharedWidth(tables.user, dimension), dtype).tensors)
  }
  for (const entry of [rowMapTensor('item', tables.item, tensors.itemRowMap, input.items.length), rowMapTensor('user', tables.user, tensors.userRowMap, input.users.length)]) {
    if (entry) t[entry[0]] = entry[1]
  }
  if (tensors.itemBias) t[TENSOR_NAMES.itemBias] = { dtype: 'F32', shape: [input.items.length], data: tensors.itemBias }
  if (tensors.itemPopularity) t[TENSOR_NAMES.itemPopularity] = { dtype: 'F32', shape: [input.items.length], data: tensors.itemPopularity }
  // Item vectors as the loader will resolve them (F16 and I8 rounding included): for the Gram matrix the
  // loader would otherwise compute at every start, and for the prebuilt index.
  const catalogRow = new Map(input.items.map((it, row) => [it.id, row]))
  const itemVectors = input.items.length === 0
    ? new Float32Array(0)
    : materializeItemVectors({ size: input.items.length, idAt: (row) => input.items[row].id }, new HybridTable({
      config: tables.item,
      dimension,
      dedicated: itemDedicated.values,
      shared: itemShared,
      dedicatedRow: dedicatedPrefix(tables.item.dedicatedRows, catalogRow),
      ...(tensors.itemRowMap ? { mapping: { rows: tensors.itemRowMap.rows, columns: tensors.itemRowMap.columns, indexOf: (id: string) => catalogRow.get(id) } } : {}),
    }))
  t[TENSOR_NAMES.itemGram] = { dtype: 'F32', shape: [dimension, dimension], data: Float32Array.from(computeItemGram(itemVectors, input.items.length, dimension)) }
  if (tensors.userSeen) {
    t[TENSOR_NAMES.userSeenIndptr] = { dtype: 'I32', shape: [input.users.length + 1], data: tensors.userSeen.indptr }
    t[TENSOR_NAMES.userSeenItems] = { dtype: 'I32', shape: [tensors.userSeen.items.length], data: tensors.userSeen.items }
  }
  if (tensors.userCodeProjection) t[TENSOR_NAMES.userCodeProjection] = { dtype: 'F32', shape: [dimension, input.codeBits], data: tensors.userCodeProjection }
  const dr = input.deepRetrieval ? deepRetrievalTensors(input.deepRetrieval) : null
  if (input.serving?.defaultMethod === 'dr' && !dr) throw new Error("serving.defaultMethod 'dr' needs a deepRetrieval structure: the loader refuses the bundle without one")
  if (dr) Object.assign(t, dr.tensors)

  const files: Record<string, string | Uint8Array> = {
    [FILE_NAMES.tensors]: encodeSafetensors(t, { format: 'pt' }),
    [FILE_NAMES.items]: input.items.map((it) => JSON.stringify(it)).join('\n') + (input.items.length ? '\n' : ''),
    [FILE_NAMES.users]: input.users.map((id) => JSON.stringify({ id })).join('\n') + (input.users.length ? '\n' : ''),
    ...input.extraFiles,
  }

  const parent = dirname(dir)
  await mkdir(parent, { recursive: true })
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`)
  await mkdir(tmp)
  try {
    const fileEntries: Manifest['files'] = {}
    for (const [name, data] of Object.entries(files)) {
      await writeFile(join(tmp, name), data)
      fileEntries[name] = { bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, sha256: sha256(data) }
    }
    let hnsw: HnswConfig | undefined
    if (input.hnsw) {
      const { prebuild, ...config } = input.hnsw
      hnsw = config
      if (prebuild && input.items.length > 0) {
        const built = buildHnswIndex({ vectors: itemVectors, count: input.items.length, dimension, bias: tensors.itemBias ?? null }, config)
        const path = join(tmp, FILE_NAMES.hnsw)
        await built.index.writeIndex(path)
        const bytes = await readFile(path)
        fileEntries[FILE_NAMES.hnsw] = { bytes: bytes.byteLength, sha256: sha256(bytes) }
      }
    }
    const manifest = ManifestSchema.parse({
      formatVersion: FORMAT_VERSION,
      model: input.model,
      createdAt: input.createdAt ?? new Date().toISOString(),
      counts: { items: input.items.length, users: input.users.length },
      dimension,
      codeBits: input.codeBits,
      dtypes: { embeddings: dtype, codes: 'U8' },
      tables,
      ...(hnsw ? { hnsw } : {}),
      ...(input.foldIn ? { foldIn: input.foldIn } : {}),
      ...(dr ? { deepRetrieval: dr.config } : {}),
      ...(input.serving ? { serving: input.serving } : {}),
      training: input.training ?? {},
      files: fileEntries,
    })
    await writeFile(join(tmp, FILE_NAMES.manifest), JSON.stringify(manifest, null, 2) + '\n')
    // Swap into place: a reader sees the old bundle or the new one, never a half-written one.
    const old = `${tmp}.old`
    let hadOld = false
    try { await rename(dir, old); hadOld = true } catch { /* no previous bundle */ }
    await rename(tmp, dir)
    if (hadOld) await rm(old, { recursive: true, force: true })
    return manifest
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
}
