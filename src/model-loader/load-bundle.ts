/**
 * Loads and fully validates a model bundle (docs/model-bundle.md) into an immutable Model.
 * Every check runs before the Model exists, so a caller gets a whole model or a BundleError
 * naming the file and field, never a partial state.
 */
import { open, readFile, stat } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { z } from 'zod'
import { HybridTable, sharedWidth, type RowMapping } from '../hashing/hybrid-table.js'
import { f16ArrayToF32 } from '../hashing/f16.js'
import { dequantizeRowsI8 } from '../hashing/int8-rows.js'
import { buildHnswIndexInWorker } from './hnsw-build.js'
import { HnswFileError, sameFile, validateHnswFile, type HnswHeader } from './hnsw-file.js'
import { hnswIndexDimension, maxAugmentedNorm, readHnswIndex, type HnswBuildInput } from './hnsw-index.js'
import { bundlePaths, type BundlePaths } from './bundle-paths.js'
import { BundleError } from './errors.js'
import { IdListError, JsonlIdIndex, type IdListLimits } from './id-index.js'
import { computeItemGram, dedicatedPrefix, materializeItemVectors } from './item-vectors.js'
import { FILE_NAMES, FORMAT_VERSION, HnswSchema, MAX_ID_BYTES, ManifestSchema, type FoldInConfig, type HnswConfig, type Manifest, type TableConfig } from '../bundle-format/manifest.js'
import type { HnswHandle, Model } from './model.js'
import { HashWorker, sha256Bytes, sharedBuffer, ShortReadError, WORKER_HASH_MIN_BYTES } from './sha256.js'
import { parseSafetensors, SafetensorsError, viewTensor, type SafetensorsFile, type TensorInfo } from './safetensors.js'
import { scaleTensorName, TENSOR_NAMES, U16_MAPPING_MAX_ROWS, U16_NO_ROW } from '../bundle-format/tensors.js'
import { checkDeepRetrievalConfig, readDeepRetrieval, type TensorAccess } from './deep-retrieval-tensors.js'
import { nextTurn } from '../util/steps.js'

/** Used when a manifest names no HNSW parameters (hnswlib's recommended range for ~64-dim vectors). */
export const DEFAULT_HNSW: HnswConfig = HnswSchema.parse({ space: 'ip', M: 16, efConstruction: 200, efSearch: 64 })

/** Fold-in constants when a bundle names none: a mid-range confidence weight and a mild ridge. */
export const DEFAULT_FOLD_IN: FoldInConfig = { alpha: 10, reg: 0.1, regExponent: 0 }

export interface LoadOptions {
  /** Build (or read) the HNSW index. Off for tools that need only the tensors. Default true. */
  readonly hnsw?: boolean
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void
  /**
   * Files at least this large are hashed by the worker thread (default WORKER_HASH_MIN_BYTES).
   * Tests lower it to run the worker path on small bundles.
   */
  readonly hashWorkerMinBytes?: number
  /**
   * Every file's real path (symlinks resolved) must lie under this directory: MODELS_ROOT for a
   * reload. Default: the bundle directory itself.
   */
  readonly root?: string
}

const FileNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a plain file name (no directories)')

/** A manifest is a few KB of JSON; anything near this is not one, and is not read whole. */
const MAX_MANIFEST_BYTES = 1024 * 1024

async function readManifest (paths: BundlePaths): Promise<Manifest> {
  const file = FILE_NAMES.manifest
  const path = await paths.file(file)
  let text: string
  try {
    if ((await stat(path)).size > MAX_MANIFEST_BYTES) throw new BundleError(file, `is larger than ${MAX_MANIFEST_BYTES} bytes`)
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof BundleError) throw err
    throw new BundleError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let json: unknown
  // JSON.parse's message quotes the text it failed on: never echo a file's contents.
  try { json = JSON.parse(text) } catch { throw new BundleError(file, 'not valid JSON') }
  // The version is checked first so a future bundle says "unsupported version", not "unknown field".
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion
  if (version !== FORMAT_VERSION) throw new BundleError(file, `unsupported formatVersion ${JSON.stringify(version)}; this loader reads ${FORMAT_VERSION}`, 'formatVersion')
  const parsed = ManifestSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new BundleError(file, issue.message, issue.path.join('.') || undefined)
  }
  const m = parsed.data
  checkTable(m, 'user', m.tables.user)
  checkTable(m, 'item', m.tables.item)
  // With a learned mapping or solved vectors the listed users' rows are not the dedicated prefix.
  const ut = m.tables.user
  if (!ut.learnedMapping && ut.vectors !== 'solved' && ut.dedicatedRows !== m.counts.users) throw new BundleError(file, `user table has ${ut.dedicatedRows} dedicated rows but counts.users is ${m.counts.users}; every listed user owns one`, 'tables.user.dedicatedRows')
  if (m.deepRetrieval) checkDeepRetrievalConfig(m.deepRetrieval)
  // mips is always servable (exact scan without an HNSW index), hamming and hybrid fall back to mips
  // for a query without a code; only dr has nothing to run without the structure.
  if (m.serving?.defaultMethod === 'dr' && !m.deepRetrieval) throw new BundleError(file, "defaultMethod 'dr' needs the Deep Retrieval structure (deepRetrieval), which the bundle does not carry", 'serving.defaultMethod')
  if (!m.tables.item.learnedMapping && m.tables.item.dedicatedRows > m.counts.items) throw new BundleError(file, `item table has ${m.tables.item.dedicatedRows} dedicated rows for ${m.counts.items} items`, 'tables.item.dedicatedRows')
  for (const name of Object.keys(m.files)) {
    if (!FileNameSchema.safeParse(name).success || name === FILE_NAMES.manifest) throw new BundleError(file, `file name ${JSON.stringify(name)} is not a plain bundle file name`, `files.${name}`)
  }
  for (const required of [FILE_NAMES.tensors, FILE_NAMES.items, FILE_NAMES.users]) {
    if (!(required in m.files)) throw new BundleError(file, `required file ${required} is not listed`, 'files')
  }
  return m
}

function checkTable (m: Manifest, which: 'user' | 'item', t: TableConfig): void {
  const field = `tables.${which}`
  if (t.learnedMapping && t.aggregation !== 'sum') throw new BundleError(FILE_NAMES.manifest, `a learned mapping sums its rows: it needs aggregation 'sum', got '${t.aggregation}'`, `${field}.learnedMapping`)
  if (t.vectors !== undefined && which === 'item') throw new BundleError(FILE_NAMES.manifest, 'item vectors are always stored; only the user table may say how its vectors come', `${field}.vectors`)
  if (t.vectors === 'solved') {
    if (t.dedicatedRows !== 0 || t.sharedRows !== 0) throw new BundleError(FILE_NAMES.manifest, `solved user vectors are stored in no rows: dedicatedRows and sharedRows must be 0, got ${t.dedicatedRows} and ${t.sharedRows}`, `${field}.vectors`)
    if (t.learnedMapping) throw new BundleError(FILE_NAMES.manifest, 'solved user vectors have no rows to map to', `${field}.learnedMapping`)
    if (!m.foldIn) throw new BundleError(FILE_NAMES.manifest, 'solved user vectors need the training fold-in constants (foldIn)', 'foldIn')
  }
  if (t.aggregation === 'concat' && m.dimension % 2 !== 0) throw new BundleError(FILE_NAMES.manifest, `concat aggregation needs an even dimension, got ${m.dimension}`, `${field}.aggregation`)
  if (t.sharedRows > 0 && t.hash.seeds[0] === t.hash.seeds[1]) throw new BundleError(FILE_NAMES.manifest, 'the two hash seeds must differ, or every id maps to one row twice', `${field}.hash.seeds`)
}

/** Checks every listed file exists with its recorded size; returns the total bytes. */
async function checkSizes (paths: BundlePaths, m: Manifest): Promise<number> {
  let total = 0
  await Promise.all(Object.entries(m.files).map(async ([name, entry]) => {
    const path = await paths.file(name)
    let size: number
    try {
      size = (await stat(path)).size
    } catch {
      throw new BundleError(name, 'listed in the manifest but missing')
    }
    if (size !== entry.bytes) throw new BundleError(name, `is ${size} bytes, the manifest says ${entry.bytes}`, 'bytes')
    total += size
  }))
  return total
}

/**
 * Checksums of every listed file. Files the loader parses are hashed from the bytes it reads
 * (`read`), the rest straight from disk (`hashRest`); large ones by one worker thread, which runs
 * them in the order asked, so the file the main thread needs first is read first.
 */
class Checksums {
  private readonly pending = new Map<string, Promise<string>>()
  private readonly worker: HashWorker | null

  /** `paths`: every listed file's resolved real path (BundlePaths, checked by checkSizes). */
  constructor (private readonly paths: ReadonlyMap<string, string>, private readonly m: Manifest, private readonly workerMinBytes: number) {
    this.worker = Object.values(m.files).some((e) => e.bytes >= workerMinBytes) ? new HashWorker() : null
  }

  private track (name: string, digest: Promise<string>): void {
    digest.catch(() => {}) // observed later by verify(); never an unhandled rejection
    this.pending.set(name, digest)
  }

  /**
   * Reads a listed file whole; its checksum is computed from these bytes. `reader`: who reads a
   * large file. 'worker' reads it into shared memory and hashes it there, so the read and hash
   * never wait on the main thread (which is busy parsing meanwhile); 'main' reads it here (no
   * worker start-up latency, for the file needed first) and hands the shared bytes over to hash.
   */
  async read (name: string, reader: 'main' | 'worker'): Promise<Buffer> {
    const path = this.paths.get(name)!
    const size = this.m.files[name].bytes
    if (!this.worker || size < this.workerMinBytes) {
      const bytes = await readWhole(path, size, false, name)
      this.track(name, Promise.resolve(sha256Bytes(bytes)))
      return bytes
    }
    if (reader === 'main') {
      const bytes = await readWhole(path, size, true, name)
      this.track(name, this.worker.hashShared(bytes))
      return bytes
    }
    const job = this.worker.readAndHash(path, size)
    this.track(name, job.digest)
    try {
      return await job.bytes
    } catch (err) {
      throw new BundleError(name, err instanceof ShortReadError ? err.message : `cannot read: ${(err as Error).message}`)
    }
  }

  /** Starts the checksums of every listed file not given to `read`. */
  hashRest (except: readonly string[]): void {
    for (const [name, entry] of Object.entries(this.m.files)) {
      if (except.includes(name)) continue
      const path = this.paths.get(name)!
      this.track(name, this.worker && entry.bytes >= this.workerMinBytes ? this.worker.hashFile(path) : readFile(path).then(sha256Bytes))
    }
  }

  async verify (name: string): Promise<void> {
    const expected = this.m.files[name].sha256
    let digest: string
    try {
      digest = await this.pending.get(name)!
    } catch (err) {
      throw new BundleError(name, `cannot read: ${(err as Error).message}`)
    }
    if (digest !== expected) throw new BundleError(name, `sha256 ${digest} does not match the manifest's ${expected}`, 'sha256')
  }

  async verifyAll (): Promise<void> {
    for (const name of this.pending.keys()) await this.verify(name)
  }

  /** Ends the worker; call once every digest has been awaited (or is no longer wanted). */
  async close (): Promise<void> {
    await this.worker?.close()
  }
}

/** Bundle id-list limits (docs/model-bundle.md). Titles and tags are counted as written in the file. */
const ID_LIST_LIMITS: IdListLimits = { maxIdBytes: MAX_ID_BYTES, maxTitleBytes: 4096, maxTagBytes: 256, maxTags: 100 }

async function parseIdList (file: string, bytes: Buffer, expected: number, allowMeta: boolean): Promise<JsonlIdIndex> {
  try {
    return await JsonlIdIndex.parse(bytes, expected, allowMeta, ID_LIST_LIMITS, yieldToLoop)
  } catch (err) {
    if (err instanceof IdListError) throw new BundleError(file, err.message, err.field)
    throw err
  }
}

interface TensorReader {
  readonly st: SafetensorsFile
  readonly bytes: Uint8Array
  zeroCopy: number
  copied: number
}

function tensorInfo (r: TensorReader, name: string, shape: readonly number[], dtypes: readonly string[], optional = false): TensorInfo | undefined {
  const info = r.st.tensors.get(name)
  if (!info) {
    if (optional) return undefined
    throw new BundleError(FILE_NAMES.tensors, 'required tensor is missing', name)
  }
  if (!dtypes.includes(info.dtype)) throw new BundleError(FILE_NAMES.tensors, `dtype ${info.dtype}, expected ${dtypes.join(' or ')}`, name)
  if (info.shape.length !== shape.length || info.shape.some((v, i) => v !== shape[i])) {
    throw new BundleError(FILE_NAMES.tensors, `shape ${JSON.stringify(info.shape)} disagrees with the manifest's ${JSON.stringify(shape)}`, name)
  }
  return info
}

/**
 * A float tensor, refused when any value is NaN or Infinity. `checkFinite: false` is for the one
 * caller that checks the same values on its own pass (the item norms), to read 256 MB once.
 */
function floatTensor (r: TensorReader, name: string, shape: readonly number[], dtypes: readonly string[], optional = false, checkFinite = true): Float32Array | null {
  const info = tensorInfo(r, name, shape, dtypes, optional)
  if (!info) return null
  let out: Float32Array
  if (info.dtype === 'F16') {
    out = f16ArrayToF32(viewTensor(r.bytes, info, Uint16Array))
    r.copied++
  } else if (info.dtype === 'I8') {
    out = dequantizedTable(r, name, info)
    r.copied++
  } else {
    out = viewTensor(r.bytes, info, Float32Array)
    if (out.buffer === r.bytes.buffer) r.zeroCopy++; else r.copied++
  }
  if (checkFinite) {
    for (let i = 0; i < out.length; i++) {
      // x - x is NaN exactly for NaN and +-Infinity: one branch per element.
      if (out[i] - out[i] !== 0) throw nonFinite(name, out, i)
    }
  }
  return out
}

/**
 * An I8 embedding table as the float32 rows the service uses: scale[r] * q[r, j] with its F32
 * [rows] companion `<name>_scale`, every scale finite and >= 0. A product beyond float32 range
 * (a scale near its maximum) is Infinity, refused by the caller's finiteness pass.
 */
function dequantizedTable (r: TensorReader, name: string, info: TensorInfo): Float32Array {
  const rows = info.shape[0]
  const width = info.shape[1]
  const scaleName = scaleTensorName(name)
  if (!r.st.tensors.has(scaleName)) {
    if (rows === 0) return new Float32Array(0)
    throw new BundleError(FILE_NAMES.tensors, `required tensor is missing: the I8 table ${name} needs its per-row scales`, scaleName)
  }
  const scale = floatTensor(r, scaleName, [rows], ['F32'])!
  for (let i = 0; i < rows; i++) {
    if (scale[i] < 0) throw new BundleError(FILE_NAMES.tensors, `negative scale ${scale[i]} at row ${i}`, scaleName)
  }
  return dequantizeRowsI8(viewTensor(r.bytes, info, Int8Array), scale, width)
}

function nonFinite (name: string, values: Float32Array, from: number): BundleError {
  let i = from
  while (i < values.length && values[i] - values[i] === 0) i++
  return new BundleError(FILE_NAMES.tensors, `non-finite value ${values[i]} at element ${i}`, name)
}

/**
 * A reload runs while the service serves: the load's synchronous phases (id lists, tensor views,
 * norms) ran back to back once the tensor read had finished, holding the loop ~0.6 s at 1M items
 * (bench:engines); with a turn of the event loop between them, requests get theirs.
 */
const yieldToLoop = nextTurn
/** Rows per slice of the norms pass (1M x 64: ~120 ms in all). */
const NORMS_SLICE_ROWS = 131_072

/**
 * Writes rows [from, to)'s Euclidean norms to `out` and returns the first row holding NaN or Infinity, or
 * -1. A float32 squared cannot overflow a double, so a row's sum is finite exactly when the row
 * is. Four partial sums, so the adds do not wait on each other: ~120 ms instead of ~150 ms for
 * 1M x 64 (measured; the rest is reading 256 MB).
 */
function rowNorms (v: Float32Array, from: number, to: number, d: number, out: Float32Array): number {
  const d4 = d - (d % 4)
  for (let i = from, base = from * d; i < to; i++, base += d) {
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    let j = 0
    for (; j < d4; j += 4) {
      const a = v[base + j]
      const b = v[base + j + 1]
      const c = v[base + j + 2]
      const e = v[base + j + 3]
      s0 += a * a
      s1 += b * b
      s2 += c * c
      s3 += e * e
    }
    for (; j < d; j++) { const a = v[base + j]; s0 += a * a }
    const s = (s0 + s1) + (s2 + s3)
    if (s - s !== 0) return i
    out[i] = Math.sqrt(s)
  }
  return -1
}

function codeTensor (r: TensorReader, name: string, rows: number, bits: number): Uint32Array {
  const info = tensorInfo(r, name, [rows, bits / 8], ['U8'])!
  const aligned = (r.bytes.byteOffset + info.offset) % 4 === 0
  if (aligned) r.zeroCopy++; else r.copied++
  return viewTensor(r.bytes, info, Uint32Array)
}

function seenTensors (r: TensorReader, users: number, items: number): Model['userSeen'] {
  const indptrInfo = r.st.tensors.get(TENSOR_NAMES.userSeenIndptr)
  const itemsInfo = r.st.tensors.get(TENSOR_NAMES.userSeenItems)
  if (!indptrInfo && !itemsInfo) return null
  if (!indptrInfo || !itemsInfo) throw new BundleError(FILE_NAMES.tensors, `${TENSOR_NAMES.userSeenIndptr} and ${TENSOR_NAMES.userSeenItems} come together`, indptrInfo ? TENSOR_NAMES.userSeenItems : TENSOR_NAMES.userSeenIndptr)
  tensorInfo(r, TENSOR_NAMES.userSeenIndptr, [users + 1], ['I32'])
  const nnz = itemsInfo.shape[0] ?? -1
  tensorInfo(r, TENSOR_NAMES.userSeenItems, [nnz], ['I32'])
  const indptr = viewTensor(r.bytes, indptrInfo, Int32Array)
  const seen = viewTensor(r.bytes, itemsInfo, Int32Array)
  if (indptr[0] !== 0 || indptr[users] !== nnz) throw new BundleError(FILE_NAMES.tensors, `offsets must run from 0 to ${nnz}`, TENSOR_NAMES.userSeenIndptr)
  for (let u = 0; u < users; u++) if (indptr[u + 1] < indptr[u]) throw new BundleError(FILE_NAMES.tensors, `offsets decrease at user row ${u}`, TENSOR_NAMES.userSeenIndptr)
  for (let i = 0; i < nnz; i++) if (seen[i] < 0 || seen[i] >= items) throw new BundleError(FILE_NAMES.tensors, `item row ${seen[i]} at element ${i} is outside 0..${items - 1}`, TENSOR_NAMES.userSeenItems)
  return { indptr, items: seen }
}

/** The Deep Retrieval reader's view of the tensors: the same shape, dtype and finiteness checks. */
function drAccess (r: TensorReader): TensorAccess {
  return {
    names: r.st.tensors.keys(),
    ints: (name, shape) => {
      const info = tensorInfo(r, name, shape, ['U8', 'I32'])!
      return info.dtype === 'U8' ? viewTensor(r.bytes, info, Uint8Array) : viewTensor(r.bytes, info, Int32Array)
    },
    floats: (name, shape) => floatTensor(r, name, shape, ['F32'])!,
  }
}

interface Tables {
  readonly itemTable: HybridTable
  readonly userTable: HybridTable
  readonly itemDedicated: Float32Array
  /** Every catalog item owns the dedicated row of its line: the dedicated tensor is the item matrix. */
  readonly allDedicated: boolean
}

/** The two embedding tables: their tensors, learned mappings, and the dictionary of each. */
function readTables (r: TensorReader, m: Manifest, items: JsonlIdIndex, users: JsonlIdIndex): Tables {
  const d = m.dimension
  const embDtypes = [m.dtypes.embeddings]
  const { user: ut, item: it } = m.tables
  // With every item dedicated this table is the item matrix, checked for NaN/Inf by the norms pass.
  const allDedicated = !it.learnedMapping && it.dedicatedRows === m.counts.items
  const itemDedicated = floatTensor(r, TENSOR_NAMES.itemEmbeddings, [it.dedicatedRows, d], embDtypes, false, !allDedicated)!
  // Solved user vectors are stored nowhere: a user_embeddings tensor may be absent or empty.
  const solved = ut.vectors === 'solved'
  const userDedicated = floatTensor(r, TENSOR_NAMES.userEmbeddings, [ut.dedicatedRows, d], embDtypes, solved) ?? new Float32Array(0)
  const itemShared = it.sharedRows > 0 ? floatTensor(r, TENSOR_NAMES.itemSharedEmbeddings, [it.sharedRows, sharedWidth(it, d)], embDtypes)! : new Float32Array(0)
  const userShared = ut.sharedRows > 0 ? floatTensor(r, TENSOR_NAMES.userSharedEmbeddings, [ut.sharedRows, sharedWidth(ut, d)], embDtypes)! : new Float32Array(0)
  const itemRow = (id: string): number | undefined => items.rowOf(id)
  const userRow = (id: string): number | undefined => users.rowOf(id)
  const itemTable = new HybridTable({
    config: it,
    dimension: d,
    dedicated: itemDedicated,
    shared: itemShared,
    dedicatedRow: dedicatedPrefix(it.dedicatedRows, { get: itemRow }),
    ...(it.learnedMapping ? { mapping: rowMapping(r, 'item', it, m.counts.items, itemRow) } : {}),
  })
  const userTable = new HybridTable({
    config: ut,
    dimension: d,
    dedicated: userDedicated,
    shared: userShared,
    dedicatedRow: solved ? () => undefined : userRow,
    ...(ut.learnedMapping ? { mapping: rowMapping(r, 'user', ut, m.counts.users, userRow) } : {}),
  })
  return { itemTable, userTable, itemDedicated, allDedicated }
}

/**
 * A table's learned mapping tensor: I32 or U16 [n, 1 or 2], every value a row of [K dedicated | B
 * shared] (in column 1 also "no second row": -1 for I32, U16_NO_ROW for U16), so resolving never
 * reads outside the tables. U16 halves the mapping's bytes and is read in place.
 */
function rowMapping (r: TensorReader, which: 'user' | 'item', t: TableConfig, n: number, indexOf: RowMapping['indexOf']): RowMapping {
  const name = t.learnedMapping!.tensor
  const info = r.st.tensors.get(name)
  if (!info) throw new BundleError(FILE_NAMES.tensors, `required tensor is missing (named by tables.${which}.learnedMapping.tensor)`, name)
  if (info.dtype !== 'I32' && info.dtype !== 'U16') throw new BundleError(FILE_NAMES.tensors, `dtype ${info.dtype}, expected I32 or U16`, name)
  const columns = info.shape[1]
  if (info.shape.length !== 2 || (columns !== 1 && columns !== 2)) throw new BundleError(FILE_NAMES.tensors, `shape ${JSON.stringify(info.shape)}, expected [${n}, 1] or [${n}, 2]`, name)
  tensorInfo(r, name, [n, columns], [info.dtype])
  const total = t.dedicatedRows + t.sharedRows
  const u16 = info.dtype === 'U16'
  if (u16 && total > U16_MAPPING_MAX_ROWS) throw new BundleError(FILE_NAMES.tensors, `a U16 mapping addresses at most ${U16_MAPPING_MAX_ROWS} rows (${U16_NO_ROW} means no second row); the table has ${total} (${t.dedicatedRows} dedicated + ${t.sharedRows} shared): use I32`, name)
  const rows = u16 ? viewTensor(r.bytes, info, Uint16Array) : viewTensor(r.bytes, info, Int32Array)
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]
    const second = columns === 2 && i % 2 === 1
    if (u16 && second && v === U16_NO_ROW) continue
    const lowest = second && !u16 ? -1 : 0
    if (v < lowest || v >= total) {
      const range = u16 && second ? `0..${total - 1} or ${U16_NO_ROW}` : `${lowest}..${total - 1}`
      throw new BundleError(FILE_NAMES.tensors, `row ${v} of ${which} line ${Math.floor(i / columns)} (column ${i % columns}) is outside ${range} (${t.dedicatedRows} dedicated + ${t.sharedRows} shared rows)`, name)
    }
  }
  return { rows, columns, indexOf }
}

function popularityOrder (popularity: Float32Array | null, count: number): Int32Array {
  const order = new Int32Array(count)
  for (let i = 0; i < count; i++) order[i] = i
  if (popularity) order.sort((a, b) => popularity[b] - popularity[a] || a - b)
  return order
}

/**
 * Reads a whole file with a few large reads into one buffer of its known size. fs.promises.readFile
 * reads in 512 KiB steps and measured ~2x slower on a 277 MB tensors file. `shared`: into shared
 * memory, for the hashing worker to read.
 */
async function readWhole (path: string, size: number, shared: boolean, name: string): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = shared ? sharedBuffer(size) : Buffer.allocUnsafeSlow(size)
    let pos = 0
    while (pos < size) {
      const { bytesRead } = await fh.read(buf, pos, Math.min(READ_CHUNK_BYTES, size - pos), pos)
      if (bytesRead === 0) throw new BundleError(name, `ended after ${pos} of ${size} bytes (changed while loading?)`)
      pos += bytesRead
    }
    return buf
  } finally {
    await fh.close()
  }
}

const READ_CHUNK_BYTES = 64 * 2 ** 20

/**
 * Validates an index file in full (src/search/hnsw-file.ts) and only then has hnswlib read it;
 * the file must be the one validated when hnswlib is done (same inode, size and times), so a file
 * rewritten between the two reads is refused rather than trusted.
 */
async function openHnsw (path: string, expected: { count: number, M: number }, space: HnswConfig['space'], efSearch: number): Promise<{ header: HnswHeader, index: HnswHandle['index'] }> {
  let checked: Awaited<ReturnType<typeof validateHnswFile>>
  try {
    checked = await validateHnswFile(path, expected)
  } catch (err) {
    if (err instanceof HnswFileError) throw new BundleError(FILE_NAMES.hnsw, err.message, err.field)
    throw new BundleError(FILE_NAMES.hnsw, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let index: HnswHandle['index']
  try {
    index = await readHnswIndex(path, space, checked.header.dimension, efSearch)
  } catch (err) {
    throw new BundleError(FILE_NAMES.hnsw, `hnswlib could not read it: ${(err as Error).message}`)
  }
  const after = await stat(path).catch(() => null)
  if (after === null || !sameFile(checked.identity, after)) throw new BundleError(FILE_NAMES.hnsw, 'changed while loading')
  return { header: checked.header, index }
}

/**
 * A bundle without items.hnsw: the index is built by a worker thread into a temporary file, then
 * validated and read like a prebuilt one, so the event loop (and the model serving meanwhile)
 * keeps turning through the build.
 */
async function buildIndex (input: HnswBuildInput, config: HnswConfig, indexDimension: number, maxNorm: number, log: NonNullable<LoadOptions['log']>): Promise<HnswHandle> {
  const expected = { count: input.count, M: config.M, dimension: indexDimension }
  log('building the HNSW index in a worker thread (no prebuilt items.hnsw in the bundle)', { items: input.count })
  return buildHnswIndexInWorker(input, config, async (path, report) => {
    const { index } = await openHnsw(path, expected, config.space, config.efSearch)
    log('built HNSW index at load (no prebuilt items.hnsw in the bundle)', { items: input.count, buildMs: Math.round(report.buildMs) })
    return { index, indexDimension, space: config.space, maxNorm, source: 'built', buildMs: report.buildMs }
  })
}

export async function loadModel (dir: string, options: LoadOptions = {}): Promise<Model> {
  const started = performance.now()
  const log = options.log ?? (() => {})
  const paths = await bundlePaths(dir, options.root)
  const m = await readManifest(paths)
  const bytesRead = await checkSizes(paths, m)
  const files = new Map(await Promise.all(Object.keys(m.files).map(async (name) => [name, await paths.file(name)] as const)))
  const sums = new Checksums(files, m, options.hashWorkerMinBytes ?? WORKER_HASH_MIN_BYTES)
  const hnswConfig = m.hnsw ?? DEFAULT_HNSW
  const wantHnsw = options.hnsw !== false && m.counts.items > 0
  // The prebuilt index is read while its checksum is computed (both overlap the validation below):
  // the whole file is validated before hnswlib reads it (openHnsw), and the index is never
  // searched (nor part of a Model) unless the checksum then holds.
  const prebuilt = wantHnsw && FILE_NAMES.hnsw in m.files
    ? openHnsw(files.get(FILE_NAMES.hnsw)!, { count: m.counts.items, M: hnswConfig.M }, hnswConfig.space, hnswConfig.efSearch)
    : null
  prebuilt?.catch(() => {})

  try {
    // The id lists are parsed while the (much larger) tensors file is still being read, by the
    // hashing worker so the read goes on while the parse holds the main thread. Its job is posted
    // first: the main thread needs those bytes next; the other checksums are wanted only at the end.
    const tensorRead = sums.read(FILE_NAMES.tensors, 'worker')
    tensorRead.catch(() => {}) // awaited below; never an unhandled rejection meanwhile
    const idRead = Promise.all([sums.read(FILE_NAMES.items, 'main'), sums.read(FILE_NAMES.users, 'main')])
    sums.hashRest([FILE_NAMES.tensors, FILE_NAMES.items, FILE_NAMES.users])
    const [itemsBytes, usersBytes] = await idRead
    const tRead = performance.now()
    const items = await parseIdList(FILE_NAMES.items, itemsBytes, m.counts.items, true)
    const users = await parseIdList(FILE_NAMES.users, usersBytes, m.counts.users, false)
    const tIds = performance.now()

    const tensorBytes = await tensorRead
    await yieldToLoop()
    let st: SafetensorsFile
    try {
      st = parseSafetensors(tensorBytes)
    } catch (err) {
      if (err instanceof SafetensorsError) throw new BundleError(FILE_NAMES.tensors, err.message)
      throw err
    }
    const r: TensorReader = { st, bytes: tensorBytes, zeroCopy: 0, copied: 0 }
    const d = m.dimension
    const itemCodes = codeTensor(r, TENSOR_NAMES.itemCodes, m.counts.items, m.codeBits)
    const userCodes = codeTensor(r, TENSOR_NAMES.userCodes, m.counts.users, m.codeBits)
    const { itemTable, userTable, itemDedicated, allDedicated } = readTables(r, m, items, users)
    const itemBias = floatTensor(r, TENSOR_NAMES.itemBias, [m.counts.items], ['F32'], true)
    const itemPopularity = floatTensor(r, TENSOR_NAMES.itemPopularity, [m.counts.items], ['F32'], true)
    const userCodeProjection = floatTensor(r, TENSOR_NAMES.userCodeProjection, [d, m.codeBits], ['F32'], true)
    const userSeen = seenTensors(r, m.counts.users, m.counts.items)
    if (userSeen === null && m.tables.user.vectors === 'solved') throw new BundleError(FILE_NAMES.tensors, 'required tensor is missing: solved user vectors are folded in from each user\'s training items', TENSOR_NAMES.userSeenIndptr)
    const storedGram = floatTensor(r, TENSOR_NAMES.itemGram, [d, d], ['F32'], true)
    const deepRetrieval = readDeepRetrieval(drAccess(r), m.deepRetrieval, m.counts.items, d)

    // With every item dedicated the table already is the item matrix: serve it in place.
    const itemVectors = allDedicated ? itemDedicated : materializeItemVectors(items, itemTable)
    // A bundle without item_gram pays O(items * d^2) here: 22 s for 1M x 64 measured on a busy
    // 2-core machine. Our writer always ships it.
    let itemGram: Float64Array
    if (storedGram) itemGram = Float64Array.from(storedGram)
    else {
      const t0 = performance.now()
      itemGram = computeItemGram(itemVectors, m.counts.items, d)
      log('computed the item Gram matrix at load (the bundle has no item_gram)', { items: m.counts.items, ms: Math.round(performance.now() - t0) })
    }
    const itemNorms = new Float32Array(m.counts.items)
    for (let from = 0; from < m.counts.items; from += NORMS_SLICE_ROWS) {
      await yieldToLoop()
      const badRow = rowNorms(itemVectors, from, Math.min(m.counts.items, from + NORMS_SLICE_ROWS), d, itemNorms)
      if (badRow !== -1) throw nonFinite(TENSOR_NAMES.itemEmbeddings, itemVectors, badRow * d)
    }

    const tTensors = performance.now()
    let hnsw: HnswHandle | null = null
    if (wantHnsw) {
      const indexDimension = hnswIndexDimension(d, itemBias !== null, hnswConfig.space)
      const buildInput = { vectors: itemVectors, count: m.counts.items, dimension: d, bias: itemBias }
      const maxNorm = hnswConfig.space === 'l2-mips' ? maxAugmentedNorm(buildInput) : 0
      if (prebuilt) {
        await sums.verify(FILE_NAMES.hnsw)
        const { header, index } = await prebuilt
        if (header.dimension !== indexDimension) throw new BundleError(FILE_NAMES.hnsw, `index holds ${header.dimension}-dimensional vectors, the model needs ${indexDimension}`, 'dimension')
        hnsw = { index, indexDimension, space: hnswConfig.space, maxNorm, source: 'file', buildMs: 0 }
      } else {
        hnsw = await buildIndex(buildInput, hnswConfig, indexDimension, maxNorm, log)
      }
    }
    const tHnsw = performance.now()
    await sums.verifyAll()
    const tDone = performance.now()

    const model: Model = {
      manifest: m,
      dir,
      id: m.model.id,
      version: m.model.version,
      dimension: d,
      codeBits: m.codeBits,
      codeWords: m.codeBits / 32,
      items,
      itemMeta: items,
      itemCodes,
      itemVectors,
      itemNorms,
      itemBias,
      popularItems: popularityOrder(itemPopularity, m.counts.items),
      users,
      userCodes,
      userTable,
      itemTable,
      userCodeProjection,
      userSeen,
      itemGram,
      foldIn: m.foldIn ?? DEFAULT_FOLD_IN,
      hnsw,
      deepRetrieval,
      stats: {
        loadMs: tDone - started,
        phasesMs: { read: tRead - started, ids: tIds - tRead, tensors: tTensors - tIds, hnsw: tHnsw - tTensors, checksums: tDone - tHnsw },
        loadedAt: new Date().toISOString(),
        bytesRead,
        zeroCopyTensors: r.zeroCopy,
        copiedTensors: r.copied,
      },
    }
    return Object.freeze(model)
  } catch (err) {
    // A corrupt file can fail a deeper check first; its checksum is the more useful report.
    await sums.verifyAll()
    throw err
  } finally {
    await sums.close()
  }
}
