/**
 * Exact Hamming top-K by multi-index hashing (Norouzi, Punjani and Fleet, "Fast exact search in
 * Hamming space with multi-index hashing", TPAMI 2014), the lookup tables of the DCH paper made
 * exact: each b-bit code is cut into m disjoint substrings and each substring indexes its own table.
 * An item at full distance d differs from the query by at most floor(d / m) bits in some substring
 * (the paper's pigeonhole argument), so probing every table at substring radius 0, 1, 2, ... finds
 * all items within a growing full radius. The same argument per table gives a finer bound: once
 * table j has been probed at radius r (tables after it at r - 1), every item with d <= m r + j has
 * been seen, so the search stops as soon as K results lie within that bound: exact, ties included.
 *
 * Tables are CSR arrays over the non-empty buckets (a rank/select bitmap maps a substring value to
 * its bucket), then rows and their codes, rows ascending in each bucket. Duplicates across tables
 * are recognised from the candidate's own substring distances (seen before iff an earlier probe
 * reached it), so there is no visited array. Queries far from every item would probe a
 * combinatorial number of buckets, so a query that exceeds its work budget is handed to the linear
 * scan (the caller's fallback).
 *
 * For codes of up to 64 bits the tables live in WebAssembly memory and the search loop runs as
 * the kernel in multi-index-kernel.ts (1M codes, bounded top-200: 76 -> 36 µs); the loop below is
 * the same algorithm for wider codes, and the kernel's oracle in the tests.
 */
import { popcount32 } from '../top-k.js'
import type { RowFilter } from '../row-filter.js'
import type { ExcludeSet, TopK } from '../types.js'
import { runAll, runInSlices } from '../../util/steps.js'
import { tryCreateWasmMemory, type WasmMemory } from '../wasm/assembler.js'
import { createExclusionBitmap } from './exclusion-bitmap.js'
import { FLAG_COMPLETE, FLAG_GAVE_UP, FLAG_STOPPED, instantiateMultiIndexKernel, PROBE_CHUNK, type KernelLayout, type KernelSearch, type KernelTable } from './multi-index-kernel.js'

/** Offsets of 2^22 entries are 16 MB per table; beyond that the tables cost more than they save. */
export const MAX_SUBSTRING_BITS = 22
export const DEFAULT_BUDGET_FRACTION = 1 / 64

export interface MultiIndexOptions {
  /** Number of substrings (tables); default round(b / log2 N), the paper's recommended substring length of about log2 N bits. */
  readonly m?: number
  /**
   * Work units (bucket probes plus bucket entries) allowed per query, as a fraction of the catalog
   * size, before giving up to the linear scan. Default 1/64, half the break-even: on 1M clustered
   * 64-bit codes (m = 3) a unit cost 206-320 ns against 6.4-9.3 ms for a scan in the same process
   * (so ~30k units = one scan), and top-10 needed 476 units at the median and 4,122 at p99, top-200
   * 2,187 and 23,859 (bench/search, loaded machine; the ratio is what matters).
   */
  readonly budgetFraction?: number
  /** The search loop: WebAssembly for codes of up to 64 bits (default), or the JavaScript loop (tests, wider codes). */
  readonly kernel?: 'wasm' | 'js'
  /** Tables larger than this stay in plain arrays with the JavaScript loop (default 2 GiB; a test lowers it). */
  readonly maxKernelMemoryBytes?: number
}

export interface MultiIndexHamming {
  readonly m: number
  /** Which search loop answers: the WebAssembly kernel, or the JavaScript loop (codes over 64 bits, or tables over the kernel memory limit). */
  readonly kernel: 'wasm' | 'js'
  readonly substringBits: readonly number[]
  readonly memoryBytes: number
  /** Work units (probes plus bucket entries) the last search used: a metric, and what budgets are set from. */
  readonly lastWork: number
  /** False when the last search returned a result its `maxCodes` bound cut short (not proven exact). */
  readonly lastExact: boolean
  /**
   * Exact top-K, or null when the query ran over its work budget (run the linear scan instead).
   * With `maxCodes`, a query stops once it has compared that many bucket entries and returns the
   * best K among the items reached so far (null when fewer than K were reached, or the probe
   * budget ran out first, as without the bound): the bounded-latency mode of the hybrid's
   * candidate stage, where probe order (substring radius 0 first) reaches the near items early.
   * `ordered` false returns the same rows without ordering them within a distance (see rank).
   * Rows `filter` does not pass are skipped like excluded ones (reached, never kept).
   */
  search (query: Uint32Array, k: number, exclude?: ExcludeSet, maxCodes?: number, ordered?: boolean, filter?: RowFilter): TopK | null
}

export function defaultSubstringCount (codeBits: number, itemCount: number): number {
  const byCatalog = Math.round(codeBits / Math.log2(Math.max(2, itemCount)))
  const byMemory = Math.ceil(codeBits / MAX_SUBSTRING_BITS)
  return Math.min(codeBits, Math.max(1, byCatalog, byMemory))
}

function extract (codes: Uint32Array, base: number, start: number, len: number): number {
  const word = start >>> 5
  const shift = start & 31
  let v = codes[base + word] >>> shift
  if (shift + len > 32) v |= codes[base + word + 1] << (32 - shift)
  return len === 32 ? v >>> 0 : v & ((1 << len) - 1)
}

/** Items (or buckets, x 4) a build step handles before it may yield. */
const BUILD_SLICE = 65_536

/** Builds the tables in one piece (tests, benchmarks, small catalogs). */
export function createMultiIndexHamming (itemCodes: Uint32Array, codeWords: number, itemCount: number, options: MultiIndexOptions = {}): MultiIndexHamming {
  return runAll(multiIndexSteps(itemCodes, codeWords, itemCount, options))
}

/**
 * Builds the tables in slices that yield to the event loop between them (1M codes: ~540 ms in one
 * piece), so a model swap can build its successor's tables while the current model serves.
 */
export function buildMultiIndexHamming (itemCodes: Uint32Array, codeWords: number, itemCount: number, options: MultiIndexOptions = {}): Promise<MultiIndexHamming> {
  return runInSlices(multiIndexSteps(itemCodes, codeWords, itemCount, options))
}

/** Each substring's width and first bit: m substrings of codeBits / m bits, the first codeBits % m one bit wider. */
function substringLayout (codeBits: number, m: number): { substringBits: number[], starts: number[] } {
  if (!Number.isInteger(m) || m < 1 || m > codeBits) throw new RangeError(`m must be an integer in [1, ${codeBits}], got ${m}`)
  const substringBits: number[] = []
  const starts: number[] = []
  for (let j = 0, start = 0; j < m; j++) {
    const len = Math.floor(codeBits / m) + (j < codeBits % m ? 1 : 0)
    if (len > MAX_SUBSTRING_BITS) throw new RangeError(`m = ${m} gives ${len}-bit substrings; at most ${MAX_SUBSTRING_BITS} allowed`)
    substringBits.push(len)
    starts.push(start)
    start += len
  }
  return { substringBits, starts }
}

/** Per table: each item's substring (key), the items per bucket (count) and the non-empty buckets. */
function * substringKeys (itemCodes: Uint32Array, codeWords: number, itemCount: number, substringBits: readonly number[], starts: readonly number[]): Generator<void, { keys: Uint32Array[], counts: Uint32Array[], nonEmpty: number[] }> {
  const keys: Uint32Array[] = []
  const counts: Uint32Array[] = []
  const nonEmpty: number[] = []
  for (let j = 0; j < substringBits.length; j++) {
    const count = new Uint32Array(2 ** substringBits[j])
    const key = new Uint32Array(itemCount)
    for (let i = 0; i < itemCount; i++) {
      const kv = extract(itemCodes, i * codeWords, starts[j], substringBits[j])
      key[i] = kv
      count[kv]++
      if ((i + 1) % BUILD_SLICE === 0) yield
    }
    let n = 0
    for (let b = 0; b < count.length; b++) if (count[b] !== 0) n++
    keys.push(key)
    counts.push(count)
    nonEmpty.push(n)
  }
  return { keys, counts, nonEmpty }
}

/** Where the tables and the search's scratch sit in the kernel's memory (byte offsets), and the bytes they take. */
function memoryLayout (substringBits: readonly number[], starts: readonly number[], nonEmpty: readonly number[], codeWords: number, itemCount: number, capacity: number): { tables: KernelTable[], scratch: ScratchLayout, bytes: number } {
  const codeBits = codeWords * 32
  let cursor = 0
  const place = (bytes: number): number => { const at = Math.ceil(cursor / 8) * 8; cursor = at + bytes; return at }
  const tables = substringBits.map((bits, j) => ({
    occOff: place(Math.ceil(2 ** bits / 32) * 8),
    startsOff: place((nonEmpty[j] + 1) * 4),
    rowsOff: place(itemCount * 4),
    codesOff: place(itemCount * codeWords * 4),
    start: starts[j],
    bits,
  }))
  const scratch = {
    queryOff: place(8),
    qsubOff: place(substringBits.length * 4),
    histOff: place((codeBits + 1) * 4),
    foundRowsOff: place(capacity * 4),
    foundDistOff: place(capacity),
    exclOff: place((itemCount + 7) >> 3),
    listOff: place(PROBE_CHUNK * 8),
    listBoundsOff: place(PROBE_CHUNK * 8),
    outOff: place(20),
  }
  return { tables, scratch, bytes: cursor }
}

type ScratchLayout = Omit<KernelLayout, 'codeWords' | 'codeBits' | 'itemCount' | 'tables' | 'capacity' | 'budget'>

/** Typed arrays in the kernel's memory at the given offsets, or plain ones without a kernel. */
class Views {
  constructor (private readonly memory: WasmMemory | null) {}
  u32 (off: number, length: number): Uint32Array { return this.memory ? new Uint32Array(this.memory.buffer, off, length) : new Uint32Array(length) }
  i32 (off: number, length: number): Int32Array { return this.memory ? new Int32Array(this.memory.buffer, off, length) : new Int32Array(length) }
  u8 (off: number, length: number): Uint8Array { return this.memory ? new Uint8Array(this.memory.buffer, off, length) : new Uint8Array(length) }
}

/** The built tables: per table its bucket starts, rows and codes in bucket order, and occupancy words. */
interface Tables {
  readonly bucketStarts: Uint32Array[]
  readonly tableRows: Int32Array[]
  /** Each table keeps the codes themselves in bucket order next to the rows: a candidate's distance then reads memory the probe just touched instead of a random line of itemCodes. */
  readonly tableCodes: Uint32Array[]
  /**
   * Per 32 buckets, [occupancy bits, non-empty buckets before them] side by side: a probe's test
   * and the index of its start (rank + popcount of the lower bits) come from one cache line. Most
   * probes at radius >= 2 hit empty buckets and stop at the bit test.
   */
  readonly occupied: Uint32Array[]
}

function * fillTables (itemCodes: Uint32Array, codeWords: number, itemCount: number, keyed: { keys: Uint32Array[], counts: Uint32Array[], nonEmpty: number[] }, layout: readonly KernelTable[], views: Views): Generator<void, Tables> {
  const tables: Tables = { bucketStarts: [], tableRows: [], tableCodes: [], occupied: [] }
  for (let j = 0; j < layout.length; j++) {
    const buckets = 2 ** layout[j].bits
    const count = keyed.counts[j]
    const key = keyed.keys[j]
    const occ = views.u32(layout[j].occOff, Math.ceil(buckets / 32) * 2)
    let filled = 0
    for (let b = 0; b < buckets; b++) {
      if ((b & 31) === 0) occ[(b >>> 5) * 2 + 1] = filled
      if (count[b] !== 0) { occ[(b >>> 5) * 2] |= 1 << (b & 31); filled++ }
      if ((b + 1) % (4 * BUILD_SLICE) === 0) yield
    }
    const bucketStart = views.u32(layout[j].startsOff, keyed.nonEmpty[j] + 1)
    // count becomes each bucket's fill position (running start).
    for (let b = 0, idx = 0, at = 0; b < buckets; b++) {
      const c = count[b]
      if (c === 0) continue
      bucketStart[idx++] = at
      count[b] = at
      at += c
    }
    bucketStart[keyed.nonEmpty[j]] = itemCount
    const rows = views.i32(layout[j].rowsOff, itemCount)
    const codes = views.u32(layout[j].codesOff, itemCount * codeWords)
    for (let i = 0; i < itemCount; i++) {
      const at = count[key[i]]++
      rows[at] = i
      for (let w = 0; w < codeWords; w++) codes[at * codeWords + w] = itemCodes[i * codeWords + w]
      if ((i + 1) % BUILD_SLICE === 0) yield
    }
    tables.bucketStarts.push(bucketStart)
    tables.tableRows.push(rows)
    tables.tableCodes.push(codes)
    tables.occupied.push(occ)
  }
  return tables
}

function * multiIndexSteps (itemCodes: Uint32Array, codeWords: number, itemCount: number, options: MultiIndexOptions): Generator<void, MultiIndexHamming> {
  const codeBits = codeWords * 32
  const m = options.m ?? defaultSubstringCount(codeBits, itemCount)
  const { substringBits, starts } = substringLayout(codeBits, m)
  // Bucket starts for the non-empty buckets only, in bucket order (plus the end): at most N + 1
  // entries where all 2^s offsets were 16 MB per 22-bit table. 1M clustered 64-bit codes (m = 3):
  // tables 67 -> 39 MiB, build 565 -> 471 ms, exact top-200 174 -> 159 µs CPU, bounded unchanged,
  // identical answers (one process, interleaved rounds).
  const keyed = yield * substringKeys(itemCodes, codeWords, itemCount, substringBits, starts)
  const budgetFraction = options.budgetFraction ?? DEFAULT_BUDGET_FRACTION
  const budget = Math.max(1024, Math.floor(itemCount * budgetFraction))
  const capacity = Math.min(itemCount, budget) + 1
  // Codes of up to 64 bits are searched by the WebAssembly kernel, so the tables and the search's
  // scratch live in its memory (views); wider codes keep plain arrays and the JavaScript loop.
  const useKernel = (options.kernel ?? 'wasm') === 'wasm' && (codeWords === 1 || codeWords === 2) && itemCount > 0
  const layout = memoryLayout(substringBits, starts, keyed.nonEmpty, codeWords, itemCount, capacity)
  const memory = useKernel ? tryCreateWasmMemory(layout.bytes, options.maxKernelMemoryBytes) : null
  const views = new Views(memory)
  const tables = yield * fillTables(itemCodes, codeWords, itemCount, keyed, layout.tables, views)
  keyed.keys.length = 0
  keyed.counts.length = 0
  const kernel = memory
    ? instantiateMultiIndexKernel({ codeWords: codeWords as 1 | 2, codeBits, itemCount, tables: layout.tables, ...layout.scratch, capacity, budget: Math.min(budget, 0x7fffffff) }, memory)
    : null
  return new MultiIndexSearch({ m, codeWords, codeBits, itemCount, substringBits, starts, budget, capacity, tables, scratch: layout.scratch, views, kernel, memory })
}

interface SearchParts {
  readonly m: number
  readonly codeWords: number
  readonly codeBits: number
  readonly itemCount: number
  readonly substringBits: readonly number[]
  readonly starts: readonly number[]
  readonly budget: number
  readonly capacity: number
  readonly tables: Tables
  readonly scratch: ScratchLayout
  readonly views: Views
  readonly kernel: KernelSearch | null
  readonly memory: WasmMemory | null
}

class MultiIndexSearch implements MultiIndexHamming {
  readonly m: number
  readonly kernel: 'wasm' | 'js'
  readonly substringBits: readonly number[]
  readonly memoryBytes: number
  lastWork = 0
  lastExact = true
  private readonly codeWords: number
  private readonly codeBits: number
  private readonly itemCount: number
  private readonly starts: readonly number[]
  private readonly budget: number
  private readonly tables: Tables
  private readonly runKernel: KernelSearch | null
  private readonly foundRows: Int32Array
  private readonly foundDist: Uint8Array
  private readonly hist: Int32Array
  private readonly grouped: Int32Array
  private readonly groupStart: Int32Array
  private readonly groupFill: Int32Array
  private readonly qsub: Int32Array
  private readonly queryView: Uint32Array
  private readonly out: Int32Array
  private readonly excluded: ReturnType<typeof createExclusionBitmap>

  constructor (p: SearchParts) {
    const { scratch, views, capacity, codeBits, itemCount } = p
    this.m = p.m
    this.kernel = p.kernel !== null ? 'wasm' : 'js'
    this.substringBits = p.substringBits
    this.codeWords = p.codeWords
    this.codeBits = codeBits
    this.itemCount = itemCount
    this.starts = p.starts
    this.budget = p.budget
    this.tables = p.tables
    this.runKernel = p.kernel
    this.foundRows = views.i32(scratch.foundRowsOff, capacity)
    this.foundDist = views.u8(scratch.foundDistOff, capacity)
    this.hist = views.i32(scratch.histOff, codeBits + 1)
    this.grouped = new Int32Array(capacity)
    this.groupStart = new Int32Array(codeBits + 2)
    this.groupFill = new Int32Array(codeBits + 2)
    this.qsub = views.i32(scratch.qsubOff, p.m)
    this.queryView = views.u32(scratch.queryOff, 2)
    this.out = views.i32(scratch.outOff, 4)
    this.excluded = createExclusionBitmap(views.u8(scratch.exclOff, (itemCount + 7) >> 3), itemCount)
    const sum = (arrays: ArrayBufferView[]): number => arrays.reduce((acc, x) => acc + x.byteLength, 0)
    const t = p.tables
    this.memoryBytes = p.memory
      ? p.memory.buffer.byteLength + this.grouped.byteLength
      : sum(t.bucketStarts) + sum(t.occupied) + sum(t.tableRows) + sum(t.tableCodes) + this.foundRows.byteLength + this.foundDist.byteLength + this.grouped.byteLength
  }

  search (query: Uint32Array, k: number, exclude?: ExcludeSet, maxCodes?: number, ordered = true, filter?: RowFilter): TopK | null {
    if (k <= 0 || this.itemCount === 0) return { rows: new Int32Array(0), scores: new Float32Array(0), candidatesExamined: 0 }
    if (this.runKernel !== null && (exclude === undefined || exclude.size === 0 || exclude.forEach !== undefined)) return this.kernelSearch(query, k, exclude, maxCodes, ordered, filter)
    return this.loopSearch(query, k, exclude, maxCodes, ordered, filter)
  }

  private querySubstrings (query: Uint32Array): void {
    this.hist.fill(0)
    for (let j = 0; j < this.m; j++) this.qsub[j] = extract(query, 0, this.starts[j], this.substringBits[j])
  }

  private kernelSearch (query: Uint32Array, k: number, exclude: ExcludeSet | undefined, maxCodes: number | undefined, ordered: boolean, filter: RowFilter | undefined): TopK | null {
    this.querySubstrings(query)
    this.queryView[0] = query[0]
    this.queryView[1] = this.codeWords === 2 ? query[1] : 0
    this.excluded.base(filter)
    const listed = this.excluded.mark(exclude)
    const bounded = maxCodes !== undefined
    const found = this.runKernel!(k, bounded ? Math.max(1, maxCodes) : 0x7fffffff, bounded ? 1 : 0)
    if (listed) this.excluded.clear(exclude!)
    const out = this.out
    const flags = out[2]
    this.lastWork = out[3]
    if ((flags & FLAG_GAVE_UP) !== 0) { this.lastExact = true; return null }
    const stopped = (flags & FLAG_STOPPED) !== 0
    this.lastExact = !stopped
    if (stopped && found < k) return null
    return this.rank(found, (flags & FLAG_COMPLETE) !== 0 ? this.codeBits : out[0], k, ordered)
  }

  private loopSearch (query: Uint32Array, k: number, exclude: ExcludeSet | undefined, maxCodes: number | undefined, ordered: boolean, filter: RowFilter | undefined): TopK | null {
    this.querySubstrings(query)
    const { m, codeWords, codeBits, itemCount, substringBits, starts, budget, qsub, hist, foundRows, foundDist } = this
    const { bucketStarts, tableRows, tableCodes, occupied } = this.tables
    let found = 0
    let work = 0
    // Distinct items reached, excluded ones included; counted exactly while fewer than k are kept
    // (tau = codeBits lets every candidate through), which is when k may exceed the catalog.
    let reached = 0
    // tau: the k-th smallest distance among the kept rows (codeBits until k are kept); cnt: kept rows within tau.
    let tau = codeBits
    let cnt = 0
    let complete = false
    // Bounded mode: stop after maxCodes bucket entries or with a full buffer (min(items, budget)
    // kept rows), and rank what was reached. Empty probes are not counted against maxCodes: they
    // cost a bit test in a cached bitmap, entries a code compare.
    const bounded = maxCodes !== undefined
    const entryLimit = bounded ? Math.max(1, maxCodes) : Infinity
    let entries = 0
    let stopped = false
    search: for (let r = 0; ; r++) {
      for (let j = 0; j < m; j++) {
        const s = substringBits[j]
        // Table j was fully enumerated at radius s: every item has been seen.
        if (r > s) { complete = true; break search }
        const bucketStart = bucketStarts[j]
        const rows = tableRows[j]
        const codes = tableCodes[j]
        const occ = occupied[j]
        const limit = 1 << s
        const q = qsub[j]
        // Gosper's hack: every s-bit mask with exactly r bits set, in increasing order.
        let v = r === 0 ? 0 : (1 << r) - 1
        while (v < limit) {
          const key = q ^ v
          const w2 = (key >>> 5) << 1
          const bits = occ[w2]
          const bit = key & 31
          if ((bits & (1 << bit)) !== 0) {
            const idx = occ[w2 + 1] + popcount32(bits & ((1 << bit) - 1))
            const begin = bucketStart[idx]
            let end = bucketStart[idx + 1]
            // Bounded mode cuts a bucket that would cross maxCodes: one huge bucket must not blow the bound.
            const cut = entries + end - begin > entryLimit
            if (cut) end = begin + Math.max(0, entryLimit - entries)
            work += end - begin
            entries += end - begin
            for (let p = begin; p < end; p++) {
              let d = 0
              for (let w = 0; w < codeWords; w++) d += popcount32(codes[p * codeWords + w] ^ query[w])
              if (d > tau) continue
              // Seen before iff an earlier probe reached it: a table before j within radius r, or one after j within r - 1.
              let seen = false
              for (let t = 0; t < m && !seen; t++) {
                if (t === j) continue
                const sd = popcount32(extract(codes, p * codeWords, starts[t], substringBits[t]) ^ qsub[t])
                seen = t < j ? sd <= r : sd < r
              }
              if (seen) continue
              reached++
              const row = rows[p]
              if ((exclude !== undefined && exclude.has(row)) || (filter !== undefined && !filter.has(row))) continue
              foundRows[found] = row
              foundDist[found] = d
              found++
              hist[d]++
              cnt++
              while (cnt - hist[tau] >= k) { cnt -= hist[tau]; tau-- }
              if (found === foundRows.length) {
                if (!bounded) { this.lastWork = work; return null }
                stopped = true
                break search
              }
            }
            if (reached === itemCount) { complete = true; break search }
            if (cut) { stopped = true; break search }
          }
          // Over the probe budget the query's neighbourhood is sparse (mostly empty buckets): the
          // linear scan answers it exactly, bounded mode or not. The entry bound is for dense
          // neighbourhoods, where the first entries reached are near ones.
          if (++work > budget) { this.lastWork = work; this.lastExact = true; return null }
          if (v === 0) break
          const t = v | (v - 1)
          v = (t + 1) | (((~t & (t + 1)) - 1) >>> (32 - Math.clz32(v & -v)))
        }
        // Every item within m r + j has been seen: an unseen one differs by > r bits in tables 0..j and >= r in the rest.
        if (cnt >= k && tau <= m * r + j) break search
      }
    }
    this.lastWork = work
    this.lastExact = !stopped
    // Cut short before k items were reached: no ranking to return, the caller scans instead.
    if (stopped && found < k) return null
    return this.rank(found, complete ? codeBits : tau, k, ordered)
  }

  /**
   * The best k of the `found` kept rows, all within kth, by (distance, row). Unordered, the same
   * rows come back but only the boundary distance (the one the k-th row falls in) is sorted by row,
   * to pick its lowest rows: enough for a caller that re-ranks the set (the hybrid), and sorting
   * every distance group was a third of the bounded candidate stage on 1M codes.
   */
  private rank (found: number, kth: number, k: number, ordered: boolean): TopK {
    const { hist, groupStart, groupFill, grouped, foundDist, foundRows, codeBits } = this
    // Rank (distance, row) by a counting sort on distance (hist counts every kept row), then rows
    // ascending within each distance: a comparison sort of all kept rows was ~12% of a bounded
    // hybrid query on 1M codes. Only distances up to the one that completes the top K are placed.
    let n = 0
    for (let d = 0; d <= kth; d++) n += hist[d]
    const outN = Math.min(k, n)
    let last = 0
    let placed = 0
    for (; last <= kth; last++) {
      groupStart[last] = placed
      placed += hist[last]
      if (placed >= outN) break
    }
    for (let d = 0; d <= last; d++) groupFill[d] = groupStart[d]
    for (let i = 0; i < found; i++) {
      const d = foundDist[i]
      if (d <= last) grouped[groupFill[d]++] = foundRows[i]
    }
    for (let d = 0; d < last; d++) if (ordered && hist[d] > 1) grouped.subarray(groupStart[d], groupStart[d] + hist[d]).sort()
    // The boundary distance contributes its lowest rows only: select them (a full sort of a large
    // boundary group was most of this function on clustered 1M codes), then order just those.
    const take = outN - groupStart[last]
    if (take > 0 && hist[last] > 1) {
      if (take < hist[last]) selectSmallest(grouped, groupStart[last], groupStart[last] + hist[last], take)
      if (ordered) grouped.subarray(groupStart[last], groupStart[last] + take).sort()
    }
    const outRows = grouped.slice(0, outN)
    const scores = new Float32Array(outN)
    for (let d = 0, i = 0; d <= last && i < outN; d++) {
      for (let e = Math.min(outN, groupStart[d] + hist[d]); i < e; i++) scores[i] = codeBits - 2 * d
    }
    return { rows: outRows, scores, candidatesExamined: found }
  }
}

/**
 * Rearranges a[lo, hi) so that its n smallest values come first, in some order (quickselect with
 * a median-of-three pivot; the values are distinct rows).
 */
export function selectSmallest (a: Int32Array, lo: number, hi: number, n: number): void {
  let left = lo
  let right = hi - 1
  const target = lo + n - 1
  while (right > left) {
    const mid = (left + right) >>> 1
    // Median of three to a[mid], then partition around it.
    if (a[mid] < a[left]) swap(a, mid, left)
    if (a[right] < a[left]) swap(a, right, left)
    if (a[right] < a[mid]) swap(a, right, mid)
    const pivot = a[mid]
    let i = left
    let j = right
    while (i <= j) {
      while (a[i] < pivot) i++
      while (a[j] > pivot) j--
      if (i <= j) { swap(a, i, j); i++; j-- }
    }
    if (target <= j) right = j
    else if (target >= i) left = i
    else return
  }
}

function swap (a: Int32Array, i: number, j: number): void {
  const t = a[i]
  a[i] = a[j]
  a[j] = t
}
