/**
 * The multi-index search loop (multi-index.ts) as a WebAssembly function, for codes of up to 64
 * bits. The JavaScript loop spends most of a query on per-entry arithmetic: a 64-bit distance is two
 * software popcounts, and the "seen in an earlier table" test one more per other table. Here a code
 * is one i64 load, XOR and POPCNT, and the test one shift, mask and POPCNT per table. Each table's
 * offsets, substring position and width are baked into the code as constants, so a module is
 * assembled per index (a few kilobytes, once per model load).
 *
 * Probes are taken PROBE_CHUNK at a time: their occupancy words are loaded first, with no branch on
 * what they hold, then the occupied buckets' bounds, then the buckets are searched in probe order.
 * A loop that branched on each probe's word waited for one cache miss at a time; a probe is mostly
 * a miss when the tables have left the cache between two queries, as in a busy server. 1M clustered
 * codes, bounded top-200, unordered (bench:kernels, BENCHMARKS.md): 36.4 µs CPU, and with the
 * caches cleared before each query 55.2 µs against 80.8 µs for a loop branching on each probe. The work counted (probes plus
 * entries) and every answer are the one-loop kernel's: the empty probes between two occupied ones
 * are counted where they fall, so a query gives up at the same probe.
 *
 * Same algorithm, same answers: the caller ranks the rows it writes exactly as the JavaScript path
 * ranks its own (tests compare both with a naive sort).
 */
import { assembleModule, FunctionBuilder, I32, I64, instantiate, OP, type WasmMemory } from '../wasm/assembler.js'

export interface KernelTable {
  /** Byte offsets in the memory of the table's occupancy/rank words, bucket starts, rows and codes. */
  readonly occOff: number
  readonly startsOff: number
  readonly rowsOff: number
  readonly codesOff: number
  /** Substring position and width in the code. */
  readonly start: number
  readonly bits: number
}

export interface KernelLayout {
  readonly codeWords: 1 | 2
  readonly codeBits: number
  readonly itemCount: number
  readonly tables: readonly KernelTable[]
  /** Query code (8 bytes), query substrings (m i32), distance histogram (codeBits + 1 i32). */
  readonly queryOff: number
  readonly qsubOff: number
  readonly histOff: number
  /** Kept rows (i32) and their distances (u8), `capacity` of each. */
  readonly foundRowsOff: number
  readonly foundDistOff: number
  readonly capacity: number
  /** Exclusion bitmap, one bit per row. */
  readonly exclOff: number
  /** A chunk's listed probes, [bucket index, position] then [begin, end] (PROBE_CHUNK x 8 bytes each). */
  readonly listOff: number
  readonly listBoundsOff: number
  /** Results: tau, found, flags, work, and the touched words' sum (5 x i32). */
  readonly outOff: number
  /** Probes plus entries allowed before the query gives up (null). */
  readonly budget: number
}

/** Probes gathered per pass (see the search loop): enough loads in flight to overlap their misses. */
export const PROBE_CHUNK = 64

export const FLAG_COMPLETE = 1
export const FLAG_STOPPED = 2
export const FLAG_GAVE_UP = 4

/** search(k, entryLimit, bounded) -> found; tau, found, flags and work are also written at outOff. */
export type KernelSearch = (k: number, entryLimit: number, bounded: number) => number

export function instantiateMultiIndexKernel (layout: KernelLayout, memory: WasmMemory): KernelSearch {
  return instantiate(multiIndexKernelModule(layout), memory).search as KernelSearch
}

/** The module of one index's search function (the layout's offsets and widths baked in as constants). */
function multiIndexKernelModule (layout: KernelLayout): Uint8Array {
  const m = layout.tables.length
  const f = new FunctionBuilder([['k', I32], ['entryLimit', I32], ['bounded', I32]], [I32])
  for (const n of ['r', 'v', 'key', 'word', 'bits', 'bit', 'begin', 'end', 'p', 'd', 'tau', 'cnt', 'found', 'work', 'entries', 'reached', 'flags', 'cut', 'tmp', 'row', 'seen', 'exhausted', 'n', 'cp', 'i', 'o', 'accounted', 'touch']) f.local(n, I32)
  for (let j = 0; j < m; j++) f.local(`qs${j}`, I32)
  f.local('q', I64).local('c', I64)

  f.i32(layout.queryOff); codeLoad(f, layout, 0); f.set('q')
  for (let j = 0; j < m; j++) f.i32(layout.qsubOff + 4 * j).mem(OP.i32Load, 2).set(`qs${j}`)
  f.i32(layout.codeBits).set('tau')

  f.block('done', () => {
    f.loop('radius', () => {
      for (let j = 0; j < m; j++) {
        const t = layout.tables[j]
        // Table j was fully enumerated at radius bits: every item has been seen.
        f.get('r').i32(t.bits).op(OP.i32GtS).if(() => { f.i32(FLAG_COMPLETE).set('flags').br('done') })
        // Gosper's hack from the smallest r-bit mask ((1 << 0) - 1 = 0 at radius 0).
        f.i32(1).get('r').op(OP.i32Shl).i32(1).op(OP.i32Sub).set('v')
        // The probes of this radius, a chunk at a time, in three passes. 1. Each probe's occupancy
        // word: independent loads with no branch on what they read, so the core overlaps their
        // cache misses (one at a time in a loop that branched on each), and the occupied ones
        // listed with their bucket index and their position in the chunk. 2. Each listed bucket's
        // bounds, and a touch of its first code and row (independent loads again). 3. The buckets
        // in probe order, exactly as one loop over the probes would take them: the empty probes
        // between two listed ones are counted against the budget where they fall.
        f.i32(0).set('exhausted')
        f.block(`probes${j}`, () => {
          f.loop(`chunk${j}`, () => {
            f.i32(0).set('n').i32(0).set('cp')
            gatherProbes(f, layout, j)
            listedBounds(f, layout, j)
            takeBuckets(f, layout, j)
            f.get('cp').get('accounted').op(OP.i32Sub)
            emptyProbes(f, layout)
            f.get('exhausted').op(OP.i32Eqz).brIf(`chunk${j}`)
          })
        })
        // Every item within m r + j has been seen: an unseen one differs by > r bits in tables 0..j and >= r in the rest.
        f.get('cnt').get('k').op(OP.i32GeS).get('tau').get('r').i32(m).op(OP.i32Mul).i32(j).op(OP.i32Add).op(OP.i32LeS).op(OP.i32And).brIf('done')
      }
      f.add('r', 1).br('radius')
    })
  })
  f.i32(layout.outOff).get('tau').mem(OP.i32Store, 2, 0)
  f.i32(layout.outOff).get('found').mem(OP.i32Store, 2, 4)
  f.i32(layout.outOff).get('flags').mem(OP.i32Store, 2, 8)
  f.i32(layout.outOff).get('work').mem(OP.i32Store, 2, 12)
  f.i32(layout.outOff).get('touch').mem(OP.i32Store, 2, 16)
  f.get('found')
  return assembleModule([['search', f]])
}

/** Loads the code at the address on the stack (plus `offset`) as an i64. */
function codeLoad (f: FunctionBuilder, layout: KernelLayout, offset: number): void {
  if (layout.codeWords === 1) f.mem(OP.i64Load32U, 2, offset)
  else f.mem(OP.i64Load, 3, offset)
}

/** Adds the i32 on the stack to work: those empty probes, each one unit; past the budget the query gives up where the first of them crossed it. */
function emptyProbes (f: FunctionBuilder, layout: KernelLayout): void {
  f.get('work').op(OP.i32Add).set('work')
  f.get('work').i32(layout.budget).op(OP.i32GtS).if(() => { f.i32(Math.min(layout.budget, 0x7ffffffe) + 1).set('work').i32(FLAG_GAVE_UP).set('flags').br('done') })
}

/** One probe's unit of work after its bucket (whose entries were added first, as the JavaScript loop counts). */
function probeDone (f: FunctionBuilder, layout: KernelLayout): void {
  // Over the probe budget the neighbourhood is sparse: the caller scans instead.
  f.add('work', 1).get('work').i32(layout.budget).op(OP.i32GtS).if(() => { f.i32(FLAG_GAVE_UP).set('flags').br('done') })
}

/** Pass 1 over table j's next chunk of probes: occupancy words loaded, occupied buckets listed. */
function gatherProbes (f: FunctionBuilder, layout: KernelLayout, j: number): void {
  const t = layout.tables[j]
  f.block(`gathered${j}`, () => {
    f.loop(`gather${j}`, () => {
      f.get('v').i32(2 ** t.bits).op(OP.i32GeU).if(() => { f.i32(1).set('exhausted').br(`gathered${j}`) })
      f.get(`qs${j}`).get('v').op(OP.i32Xor).tee('key')
      // Per 32 buckets: [occupancy bits, non-empty buckets before them], 8 bytes.
      f.i32(5).op(OP.i32ShrU).i32(3).op(OP.i32Shl).tee('word').mem(OP.i32Load, 2, t.occOff).set('bits')
      f.get('key').i32(31).op(OP.i32And).set('bit')
      // list[n] = [bucket index (rank before the word + popcount of the lower bits), position]
      f.get('n').i32(3).op(OP.i32Shl).tee('tmp')
      f.get('word').mem(OP.i32Load, 2, t.occOff + 4)
      f.get('bits').i32(1).get('bit').op(OP.i32Shl).i32(1).op(OP.i32Sub).op(OP.i32And).op(OP.i32Popcnt).op(OP.i32Add)
      f.mem(OP.i32Store, 2, layout.listOff)
      f.get('tmp').get('cp').mem(OP.i32Store, 2, layout.listOff + 4)
      f.get('bits').get('bit').op(OP.i32ShrU).i32(1).op(OP.i32And).get('n').op(OP.i32Add).set('n')
      f.add('cp', 1)
      // Radius 0 has the one probe.
      f.get('v').op(OP.i32Eqz).if(() => { f.i32(1).set('exhausted').br(`gathered${j}`) })
      // Next mask with the same number of bits: t = v | (v - 1); v = (t + 1) | (((~t & (t + 1)) - 1) >>> (ctz(v) + 1))
      f.get('v').get('v').i32(1).op(OP.i32Sub).op(OP.i32Or).set('tmp')
      f.get('tmp').i32(1).op(OP.i32Add)
      f.get('tmp').i32(-1).op(OP.i32Xor).get('tmp').i32(1).op(OP.i32Add).op(OP.i32And).i32(1).op(OP.i32Sub)
      f.get('v').op(OP.i32Ctz).i32(1).op(OP.i32Add).op(OP.i32ShrU)
      f.op(OP.i32Or).set('v')
      f.get('cp').i32(PROBE_CHUNK).op(OP.i32LtU).brIf(`gather${j}`)
    })
  })
}

/** Pass 2: the listed buckets' bounds in place of their index, [begin, end], and a touch of each one's first code and row. */
function listedBounds (f: FunctionBuilder, layout: KernelLayout, j: number): void {
  const t = layout.tables[j]
  const stride = layout.codeWords * 4
  f.i32(0).set('i')
  f.block(`bounded${j}`, () => {
    f.loop(`bound${j}`, () => {
      f.get('i').get('n').op(OP.i32GeU).brIf(`bounded${j}`)
      f.get('i').i32(3).op(OP.i32Shl).tee('tmp').mem(OP.i32Load, 2, layout.listOff).i32(2).op(OP.i32Shl).tee('p')
      f.mem(OP.i32Load, 2, t.startsOff).set('begin')
      f.get('tmp').get('begin').mem(OP.i32Store, 2, layout.listBoundsOff)
      f.get('tmp').get('p').mem(OP.i32Load, 2, t.startsOff + 4).mem(OP.i32Store, 2, layout.listBoundsOff + 4)
      // The touch: the bucket's first code and row, loaded into a sum stored at the end.
      f.get('touch').get('begin').i32(stride).op(OP.i32Mul)
      codeLoad(f, layout, t.codesOff)
      f.op(OP.i32WrapI64).op(OP.i32Add)
      f.get('begin').i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, t.rowsOff).op(OP.i32Add).set('touch')
      f.add('i', 1).br(`bound${j}`)
    })
  })
}

/** Pass 3: the buckets in probe order; `accounted` counts the chunk's probes accounted for. */
function takeBuckets (f: FunctionBuilder, layout: KernelLayout, j: number): void {
  f.i32(0).set('i').i32(0).set('accounted')
  f.block(`taken${j}`, () => {
    f.loop(`take${j}`, () => {
      f.get('i').get('n').op(OP.i32GeU).brIf(`taken${j}`)
      // The empty probes before this one, each one unit of work.
      f.get('i').i32(3).op(OP.i32Shl).tee('tmp').mem(OP.i32Load, 2, layout.listOff + 4).tee('o')
      f.get('accounted').op(OP.i32Sub)
      emptyProbes(f, layout)
      f.get('tmp').mem(OP.i32Load, 2, layout.listBoundsOff).set('begin')
      f.get('tmp').mem(OP.i32Load, 2, layout.listBoundsOff + 4).set('end')
      bucket(f, layout, j)
      // This probe itself.
      probeDone(f, layout)
      f.get('o').i32(1).op(OP.i32Add).set('accounted')
      f.add('i', 1).br(`take${j}`)
    })
  })
}

/** The bucket [begin, end) of table j: its entries compared, kept or cut; may leave the search ('done'). */
function bucket (f: FunctionBuilder, layout: KernelLayout, j: number): void {
  const t = layout.tables[j]
  const stride = layout.codeWords * 4
  // Bounded mode cuts a bucket that would cross entryLimit.
  f.get('entries').get('end').op(OP.i32Add).get('begin').op(OP.i32Sub).get('entryLimit').op(OP.i32GtS).tee('cut').if(() => {
    f.get('entryLimit').get('entries').op(OP.i32Sub).tee('tmp').i32(0).op(OP.i32LtS).if(() => { f.i32(0).set('tmp') })
    f.get('begin').get('tmp').op(OP.i32Add).set('end')
  })
  f.get('end').get('begin').op(OP.i32Sub).tee('tmp').get('work').op(OP.i32Add).set('work')
  f.get('tmp').get('entries').op(OP.i32Add).set('entries')
  f.get('begin').set('p')
  f.block(`entries${j}`, () => {
    f.loop(`entry${j}`, () => {
      f.get('p').get('end').op(OP.i32GeU).brIf(`entries${j}`)
      f.get('p').i32(stride).op(OP.i32Mul)
      codeLoad(f, layout, t.codesOff)
      f.tee('c').get('q').op(OP.i64Xor).op(OP.i64Popcnt).op(OP.i32WrapI64).tee('d')
      f.get('tau').op(OP.i32LeU).if(() => {
        unseenTest(f, layout, j)
        f.op(OP.i32Eqz).if(() => keep(f, layout, j))
      })
      f.add('p', 1).br(`entry${j}`)
    })
  })
  f.get('reached').i32(layout.itemCount).op(OP.i32Eq).if(() => { f.i32(FLAG_COMPLETE).set('flags').br('done') })
  f.get('cut').if(() => { f.i32(FLAG_STOPPED).set('flags').br('done') })
}

/** Pushes whether code `c` (in table j) was seen before: an earlier probe reached it, a table before j within radius r or one after j within r - 1. */
function unseenTest (f: FunctionBuilder, layout: KernelLayout, j: number): void {
  f.i32(0)
  for (let u = 0; u < layout.tables.length; u++) {
    if (u === j) continue
    const o = layout.tables[u]
    f.get('c').i64(BigInt(o.start)).op(OP.i64ShrU).op(OP.i32WrapI64)
    if (o.bits < 32) f.i32(2 ** o.bits - 1).op(OP.i32And)
    f.get(`qs${u}`).op(OP.i32Xor).op(OP.i32Popcnt).get('r').op(u < j ? OP.i32LeU : OP.i32LtU).op(OP.i32Or)
  }
}

/** A first-seen entry p of table j at distance d: kept unless its row is excluded, tau tightened; a full buffer leaves the search. */
function keep (f: FunctionBuilder, layout: KernelLayout, j: number): void {
  f.add('reached', 1)
  f.get('p').i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, layout.tables[j].rowsOff).tee('row')
  // excluded = bitmap[row >> 3] >> (row & 7) & 1
  f.i32(3).op(OP.i32ShrU).mem(OP.i32Load8U, 0, layout.exclOff).get('row').i32(7).op(OP.i32And).op(OP.i32ShrU).i32(1).op(OP.i32And)
  f.op(OP.i32Eqz).if(() => {
    f.get('found').i32(2).op(OP.i32Shl).get('row').mem(OP.i32Store, 2, layout.foundRowsOff)
    f.get('found').get('d').mem(OP.i32Store8, 0, layout.foundDistOff)
    f.add('found', 1)
    f.get('d').i32(2).op(OP.i32Shl).tee('tmp').get('tmp').mem(OP.i32Load, 2, layout.histOff).i32(1).op(OP.i32Add).mem(OP.i32Store, 2, layout.histOff)
    f.add('cnt', 1)
    // while (cnt - hist[tau] >= k) { cnt -= hist[tau]; tau-- }
    f.block('shrunk', () => {
      f.loop('shrink', () => {
        f.get('cnt').get('tau').i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, layout.histOff).op(OP.i32Sub).tee('tmp')
        f.get('k').op(OP.i32LtS).brIf('shrunk')
        f.get('tmp').set('cnt').add('tau', -1).br('shrink')
      })
    })
    f.get('found').i32(layout.capacity).op(OP.i32Eq).if(() => {
      f.get('bounded').if(() => { f.i32(FLAG_STOPPED).set('flags') }, () => { f.i32(FLAG_GAVE_UP).set('flags') })
      f.br('done')
    })
  })
}
