/**
 * Loads and fully validates a model bundle (docs/model-bundle.md) into an immutable Model.
 * Every check runs before the Model exists, so a caller gets a whole model or a BundleError
 * naming the file and field, never a partial state.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { z } from 'zod'
import { HybridTable, sharedWidth } from '../hashing/hybrid-table.js'
import { f16ArrayToF32 } from '../hashing/f16.js'
import { buildHnswIndex, hnswIndexDimension, maxAugmentedNorm, readHnswHeader, readHnswIndex } from '../search/hnsw-index.js'
import { BundleError } from './errors.js'
import { IdIndex } from './id-index.js'
import { dedicatedPrefix, materializeItemVectors } from './item-vectors.js'
import { FILE_NAMES, FORMAT_VERSION, HnswSchema, MAX_ID_BYTES, ManifestSchema, type HnswConfig, type Manifest, type TableConfig } from './manifest.js'
import type { HnswHandle, ItemMeta, Model } from './model.js'
import { parseSafetensors, SafetensorsError, viewTensor, type SafetensorsFile, type TensorInfo } from './safetensors.js'
import { TENSOR_NAMES } from './write-bundle.js'

/** Used when a manifest names no HNSW parameters (hnswlib's recommended range for ~64-dim vectors). */
export const DEFAULT_HNSW: HnswConfig = HnswSchema.parse({ space: 'ip', M: 16, efConstruction: 200, efSearch: 64 })

export interface LoadOptions {
  /** Build (or read) the HNSW index. Off for tools that need only the tensors. Default true. */
  readonly hnsw?: boolean
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void
}

const FileNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a plain file name (no directories)')

const ItemLineSchema = z.object({
  id: z.string(),
  title: z.string().max(1000).optional(),
  tags: z.array(z.string().max(200)).max(100).optional(),
}).strict()
const UserLineSchema = z.object({ id: z.string() }).strict()

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8')

async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function readManifest (dir: string): Promise<Manifest> {
  const file = FILE_NAMES.manifest
  let text: string
  try {
    text = await readFile(join(dir, file), 'utf8')
  } catch (err) {
    throw new BundleError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new BundleError(file, `not valid JSON: ${(err as Error).message}`) }
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
  if (m.tables.user.dedicatedRows !== m.counts.users) throw new BundleError(file, `user table has ${m.tables.user.dedicatedRows} dedicated rows but counts.users is ${m.counts.users}; every listed user owns one`, 'tables.user.dedicatedRows')
  if (m.tables.item.dedicatedRows > m.counts.items) throw new BundleError(file, `item table has ${m.tables.item.dedicatedRows} dedicated rows for ${m.counts.items} items`, 'tables.item.dedicatedRows')
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
  if (t.learnedMapping) throw new BundleError(FILE_NAMES.manifest, `learned id -> row mappings (${t.learnedMapping.kind}) are not supported by format v1 loaders`, `${field}.learnedMapping`)
  if (t.aggregation === 'concat' && m.dimension % 2 !== 0) throw new BundleError(FILE_NAMES.manifest, `concat aggregation needs an even dimension, got ${m.dimension}`, `${field}.aggregation`)
  if (t.sharedRows > 0 && t.hash.seeds[0] === t.hash.seeds[1]) throw new BundleError(FILE_NAMES.manifest, 'the two hash seeds must differ, or every id maps to one row twice', `${field}.hash.seeds`)
}

async function verifyFiles (dir: string, m: Manifest): Promise<number> {
  let total = 0
  await Promise.all(Object.entries(m.files).map(async ([name, entry]) => {
    const path = join(dir, name)
    let size: number
    try {
      size = (await stat(path)).size
    } catch {
      throw new BundleError(name, 'listed in the manifest but missing')
    }
    if (size !== entry.bytes) throw new BundleError(name, `is ${size} bytes, the manifest says ${entry.bytes}`, 'bytes')
    total += size
    // The tensors file is hashed from memory after it is read (one pass over the bytes, not two).
    if (name === FILE_NAMES.tensors) return
    const digest = await sha256File(path)
    if (digest !== entry.sha256) throw new BundleError(name, `sha256 ${digest} does not match the manifest's ${entry.sha256}`, 'sha256')
  }))
  return total
}

function parseJsonLines<T> (file: string, text: string, schema: z.ZodType<T>, expected: number): T[] {
  const out: T[] = []
  const lines = text.split('\n')
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  for (let i = 0; i < lines.length; i++) {
    let json: unknown
    try { json = JSON.parse(lines[i]) } catch (err) { throw new BundleError(file, `line ${i + 1}: not valid JSON (${(err as Error).message})`) }
    const parsed = schema.safeParse(json)
    if (!parsed.success) throw new BundleError(file, `line ${i + 1}: ${parsed.error.issues[0].message}`, parsed.error.issues[0].path.join('.'))
    const id = (parsed.data as { id: string }).id
    if (id.length === 0 || utf8Length(id) > MAX_ID_BYTES) throw new BundleError(file, `line ${i + 1}: id must be 1..${MAX_ID_BYTES} UTF-8 bytes`, 'id')
    out.push(parsed.data)
  }
  if (out.length !== expected) throw new BundleError(file, `has ${out.length} entries, the manifest counts ${expected}`)
  return out
}

function buildIdIndex (file: string, ids: string[]): IdIndex {
  const built = IdIndex.build(ids)
  if (built instanceof IdIndex) return built
  throw new BundleError(file, `duplicate id ${JSON.stringify(built.duplicate)} on lines ${built.rows[0] + 1} and ${built.rows[1] + 1}`, 'id')
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

function floatTensor (r: TensorReader, name: string, shape: readonly number[], dtypes: readonly string[], optional = false): Float32Array | null {
  const info = tensorInfo(r, name, shape, dtypes, optional)
  if (!info) return null
  let out: Float32Array
  if (info.dtype === 'F16') {
    out = f16ArrayToF32(viewTensor(r.bytes, info, Uint16Array))
    r.copied++
  } else {
    out = viewTensor(r.bytes, info, Float32Array)
    if (out.buffer === r.bytes.buffer) r.zeroCopy++; else r.copied++
  }
  for (let i = 0; i < out.length; i++) {
    // x - x is NaN exactly for NaN and +-Infinity: one branch per element.
    if (out[i] - out[i] !== 0) throw new BundleError(FILE_NAMES.tensors, `non-finite value ${out[i]} at element ${i}`, name)
  }
  return out
}

function codeTensor (r: TensorReader, name: string, rows: number, bits: number): Uint32Array {
  const info = tensorInfo(r, name, [rows, bits / 8], ['U8'])!
  const aligned = (r.bytes.byteOffset + info.offset) % 4 === 0
  if (aligned) r.zeroCopy++; else r.copied++
  return viewTensor(r.bytes, info, Uint32Array)
}

function popularityOrder (popularity: Float32Array | null, count: number): Int32Array {
  const order = new Int32Array(count)
  for (let i = 0; i < count; i++) order[i] = i
  if (popularity) order.sort((a, b) => popularity[b] - popularity[a] || a - b)
  return order
}

export async function loadModel (dir: string, options: LoadOptions = {}): Promise<Model> {
  const started = performance.now()
  const log = options.log ?? (() => {})
  const m = await readManifest(dir)
  const bytesRead = await verifyFiles(dir, m)

  const tensorBytes = await readFile(join(dir, FILE_NAMES.tensors))
  const digest = createHash('sha256').update(tensorBytes).digest('hex')
  if (digest !== m.files[FILE_NAMES.tensors].sha256) throw new BundleError(FILE_NAMES.tensors, `sha256 ${digest} does not match the manifest's ${m.files[FILE_NAMES.tensors].sha256}`, 'sha256')
  let st: SafetensorsFile
  try {
    st = parseSafetensors(tensorBytes)
  } catch (err) {
    if (err instanceof SafetensorsError) throw new BundleError(FILE_NAMES.tensors, err.message)
    throw err
  }

  const itemLines = parseJsonLines(FILE_NAMES.items, await readFile(join(dir, FILE_NAMES.items), 'utf8'), ItemLineSchema, m.counts.items)
  const userLines = parseJsonLines(FILE_NAMES.users, await readFile(join(dir, FILE_NAMES.users), 'utf8'), UserLineSchema, m.counts.users)
  const items = buildIdIndex(FILE_NAMES.items, itemLines.map((l) => l.id))
  const users = buildIdIndex(FILE_NAMES.users, userLines.map((l) => l.id))
  const itemMeta: (ItemMeta | undefined)[] = itemLines.map((l) => (l.title !== undefined || l.tags !== undefined ? { title: l.title, tags: l.tags } : undefined))

  const r: TensorReader = { st, bytes: tensorBytes, zeroCopy: 0, copied: 0 }
  const d = m.dimension
  const embDtypes = [m.dtypes.embeddings]
  const { user: ut, item: it } = m.tables
  const itemCodes = codeTensor(r, TENSOR_NAMES.itemCodes, m.counts.items, m.codeBits)
  const userCodes = codeTensor(r, TENSOR_NAMES.userCodes, m.counts.users, m.codeBits)
  const itemDedicated = floatTensor(r, TENSOR_NAMES.itemEmbeddings, [it.dedicatedRows, d], embDtypes)!
  const userDedicated = floatTensor(r, TENSOR_NAMES.userEmbeddings, [ut.dedicatedRows, d], embDtypes)!
  const itemShared = it.sharedRows > 0 ? floatTensor(r, TENSOR_NAMES.itemSharedEmbeddings, [it.sharedRows, sharedWidth(it, d)], embDtypes)! : new Float32Array(0)
  const userShared = ut.sharedRows > 0 ? floatTensor(r, TENSOR_NAMES.userSharedEmbeddings, [ut.sharedRows, sharedWidth(ut, d)], embDtypes)! : new Float32Array(0)
  const itemBias = floatTensor(r, TENSOR_NAMES.itemBias, [m.counts.items], ['F32'], true)
  const itemPopularity = floatTensor(r, TENSOR_NAMES.itemPopularity, [m.counts.items], ['F32'], true)
  const userCodeProjection = floatTensor(r, TENSOR_NAMES.userCodeProjection, [d, m.codeBits], ['F32'], true)

  const itemTable = new HybridTable({ config: it, dimension: d, dedicated: itemDedicated, shared: itemShared, dedicatedRow: dedicatedPrefix(it.dedicatedRows, { get: (id) => items.rowOf(id) }) })
  const userTable = new HybridTable({ config: ut, dimension: d, dedicated: userDedicated, shared: userShared, dedicatedRow: (id) => users.rowOf(id) })

  // With every item dedicated the table already is the item matrix: serve it in place.
  const itemVectors = it.dedicatedRows === m.counts.items ? itemDedicated : materializeItemVectors(items.ids, itemTable)
  const itemNorms = new Float32Array(m.counts.items)
  for (let i = 0; i < m.counts.items; i++) {
    let s = 0
    for (let j = 0; j < d; j++) { const x = itemVectors[i * d + j]; s += x * x }
    itemNorms[i] = Math.sqrt(s)
  }

  let hnsw: HnswHandle | null = null
  if (options.hnsw !== false && m.counts.items > 0) {
    const config = m.hnsw ?? DEFAULT_HNSW
    const indexDimension = hnswIndexDimension(d, itemBias !== null, config.space)
    const buildInput = { vectors: itemVectors, count: m.counts.items, dimension: d, bias: itemBias }
    const maxNorm = config.space === 'l2-mips' ? maxAugmentedNorm(buildInput) : 0
    if (FILE_NAMES.hnsw in m.files) {
      const path = join(dir, FILE_NAMES.hnsw)
      let header
      try { header = await readHnswHeader(path) } catch (err) { throw new BundleError(FILE_NAMES.hnsw, (err as Error).message) }
      if (header.dimension !== indexDimension) throw new BundleError(FILE_NAMES.hnsw, `index holds ${header.dimension}-dimensional vectors, the model needs ${indexDimension}`, 'dimension')
      if (header.count !== m.counts.items) throw new BundleError(FILE_NAMES.hnsw, `index holds ${header.count} items, the manifest counts ${m.counts.items}`, 'count')
      if (header.M !== config.M) throw new BundleError(FILE_NAMES.hnsw, `index was built with M=${header.M}, the manifest says ${config.M}`, 'M')
      const index = await readHnswIndex(path, config.space, indexDimension, config.efSearch)
      hnsw = { index, indexDimension, space: config.space, maxNorm, source: 'file', buildMs: 0 }
    } else {
      const t0 = performance.now()
      const built = buildHnswIndex(buildInput, config)
      const buildMs = performance.now() - t0
      log('built HNSW index at load (no prebuilt items.hnsw in the bundle)', { items: m.counts.items, buildMs: Math.round(buildMs) })
      hnsw = { index: built.index, indexDimension, space: config.space, maxNorm, source: 'built', buildMs }
    }
  }

  const model: Model = {
    manifest: m,
    dir,
    id: m.model.id,
    version: m.model.version,
    dimension: d,
    codeBits: m.codeBits,
    codeWords: m.codeBits / 32,
    items,
    itemMeta,
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
    hnsw,
    stats: {
      loadMs: performance.now() - started,
      loadedAt: new Date().toISOString(),
      bytesRead,
      zeroCopyTensors: r.zeroCopy,
      copiedTensors: r.copied,
    },
  }
  return Object.freeze(model)
}
