/**
 * A WebAssembly Hamming scan, assembled here from opcodes (no toolchain, no binary blob): one
 * function per code width, i32.popcnt / i64.popcnt over the XOR of each item code with the query.
 * V8 lowers these to the POPCNT instruction, which JavaScript cannot reach (a 16-bit table lookup
 * per half-word is the best plain JS does).
 *
 * The scan keeps a shrinking radius tau, the K-th smallest distance seen so far (a histogram over
 * the 0..codeBits distances of the kept candidates tells when tau can drop), and writes out only the
 * rows within tau. On clustered codes tau falls within the first few thousand rows, so the hot
 * loop is load, xor, popcnt, compare, with a branch that is almost never taken.
 */
import { assembleModule, FunctionBuilder, OP as ASM_OP, I32, I64, sleb, uleb, vec, wasm, type WasmMemory } from '../wasm/assembler.js'

export { createWasmMemory } from '../wasm/assembler.js'

// The shared opcode table plus the block type and value types this hand-laid kernel pushes inline.
const OP = { ...ASM_OP, void: 0x40, i32: I32, i64: I64 } as const

const UNROLL = 4
const PARAMS = ['codesOff', 'n', 'qOff', 'histOff', 'rowsOff', 'distOff', 'need', 'tauOff', 'exclOff'] as const
const LOCALS = ['row', 'p', 'd', 'tau', 'cnt', 'stored', 'tmp', 'm', 'd0', 'd1', 'd2', 'd3'] as const
type Name = (typeof PARAMS)[number] | (typeof LOCALS)[number]
const INDEX = new Map<Name, number>([...PARAMS, ...LOCALS].map((name, i) => [name, i]))
const DS: readonly Name[] = ['d0', 'd1', 'd2', 'd3']
const get = (name: Name): number[] => [OP.localGet, INDEX.get(name) as number]
const set = (name: Name): number[] => [OP.localSet, INDEX.get(name) as number]
const tee = (name: Name): number[] => [OP.localTee, INDEX.get(name) as number]
const i32 = (v: number): number[] => [OP.i32Const, ...sleb(v)]
const mem = (op: number, align: number, offset = 0): number[] => [op, align, ...uleb(offset)]

/** popcount(code at p + offset ^ query) for a code of `words` 32-bit words; query words are locals q0, q1, ... */
function distanceCode (words: number, queryLocal0: number, offset: number): number[] {
  if (words === 1) {
    return [...get('p'), ...mem(OP.i32Load, 2, offset), OP.localGet, queryLocal0, OP.i32Xor, OP.i32Popcnt]
  }
  const out: number[] = []
  for (let h = 0; h < words / 2; h++) {
    out.push(...get('p'), ...mem(OP.i64Load, 3, offset + h * 8), OP.localGet, queryLocal0 + h, OP.i64Xor, OP.i64Popcnt)
    if (h > 0) out.push(OP.i64Add)
  }
  out.push(OP.i32WrapI64)
  return out
}

/**
 * The slow path for one row (row + rowDelta) at distance in local d: keep it if within tau and not
 * excluded (bit row of the bitmap at exclOff), then shrink tau.
 */
function consider (d: Name, rowDelta: number): number[] {
  const body: number[] = []
  body.push(...get(d), ...get('tau'), OP.i32LeU, OP.if, OP.void)
  // excluded = (bitmap[(row + delta) >> 3] >> ((row + delta) & 7)) & 1
  body.push(...get('row'), ...i32(rowDelta), OP.i32Add, ...tee('tmp'), ...i32(3), OP.i32ShrU, ...get('exclOff'), OP.i32Add, ...mem(OP.i32Load8U, 0))
  body.push(...get('tmp'), ...i32(7), OP.i32And, OP.i32ShrU, ...i32(1), OP.i32And, OP.i32Eqz, OP.if, OP.void)
  // rows[stored] = row; dist[stored] = d; stored++
  body.push(...get('stored'), ...i32(2), OP.i32Shl, ...get('rowsOff'), OP.i32Add, ...get('row'), ...i32(rowDelta), OP.i32Add, ...mem(OP.i32Store, 2))
  body.push(...get('stored'), ...get('distOff'), OP.i32Add, ...get(d), ...mem(OP.i32Store8, 0))
  body.push(...get('stored'), ...i32(1), OP.i32Add, ...set('stored'))
  // hist[d]++; cnt++
  body.push(...get(d), ...i32(2), OP.i32Shl, ...get('histOff'), OP.i32Add, ...tee('tmp'), ...get('tmp'), ...mem(OP.i32Load, 2), ...i32(1), OP.i32Add, ...mem(OP.i32Store, 2))
  body.push(...get('cnt'), ...i32(1), OP.i32Add, ...set('cnt'))
  // while (cnt - hist[tau] >= need) { cnt -= hist[tau]; tau-- }
  body.push(OP.block, OP.void, OP.loop, OP.void)
  body.push(...get('cnt'), ...get('tau'), ...i32(2), OP.i32Shl, ...get('histOff'), OP.i32Add, ...mem(OP.i32Load, 2), OP.i32Sub, ...tee('tmp'))
  body.push(...get('need'), OP.i32LtS, OP.brIf, 1)
  body.push(...get('tmp'), ...set('cnt'), ...get('tau'), ...i32(1), OP.i32Sub, ...set('tau'), OP.br, 0)
  body.push(OP.end, OP.end)
  body.push(OP.end) // if not excluded
  body.push(OP.end) // if within tau
  return body
}

/**
 * scan(codesOff, n, qOff, histOff, rowsOff, distOff, need, tauOff, exclOff) -> stored.
 * Writes (row, distance) for every row not excluded that was within the running radius when
 * visited, in row order, and the final radius tau at tauOff: exactly the non-excluded rows with
 * distance <= tau are among those written, and at least `need` of them have distance <= tau (or all
 * of them, when fewer). hist must be zeroed by the caller; exclOff is a bitmap with one bit per row
 * (bit r & 7 of byte r >> 3), set for rows to skip. Skipping excluded rows inside the scan keeps
 * the radius as tight as for a user who has seen nothing: over-fetching by the exclusion count
 * instead made a user with 2,698 seen items keep ~3,000 rows of 9,742.
 * Rows go four at a time with one branch on their minimum distance: 1M 64-bit codes went from
 * 1.34 ms to 0.59 ms median against the one-row loop. The minimum must be a two-deep tree: a
 * serial chain of three selects measured 1.03 ms against 0.66 ms on a quiet machine.
 */
function scanFunction (words: number, codeBits: number): number[] {
  const stride = words * 4
  const qType = words === 1 ? OP.i32 : OP.i64
  const qCount = words === 1 ? 1 : words / 2
  const q0 = PARAMS.length + LOCALS.length
  const body: number[] = []
  for (let h = 0; h < qCount; h++) {
    body.push(...get('qOff'), ...mem(words === 1 ? OP.i32Load : OP.i64Load, words === 1 ? 2 : 3, h * 8), OP.localSet, q0 + h)
  }
  body.push(...i32(codeBits), ...set('tau'), ...get('codesOff'), ...set('p'))
  // Groups of UNROLL rows while row + UNROLL <= n.
  body.push(OP.block, OP.void, OP.loop, OP.void)
  body.push(...get('row'), ...i32(UNROLL), OP.i32Add, ...get('n'), OP.i32LeU, OP.i32Const, 0, 0x46 /* i32.eq */, OP.brIf, 1)
  for (let u = 0; u < UNROLL; u++) body.push(...distanceCode(words, q0, u * stride), ...set(DS[u]))
  // min(d0, d1, d2, d3) as a tree of selects (0x1b: [a, b, a < b] -> a if a < b), two deep.
  body.push(...get('d0'), ...get('d1'), ...get('d0'), ...get('d1'), OP.i32LtU, 0x1b, ...set('m'))
  body.push(...get('d2'), ...get('d3'), ...get('d2'), ...get('d3'), OP.i32LtU, 0x1b, ...set('tmp'))
  body.push(...get('m'), ...get('tmp'), ...get('m'), ...get('tmp'), OP.i32LtU, 0x1b, ...get('tau'), OP.i32LeU, OP.if, OP.void)
  for (let u = 0; u < UNROLL; u++) body.push(...consider(DS[u], u))
  body.push(OP.end)
  body.push(...get('p'), ...i32(stride * UNROLL), OP.i32Add, ...set('p'))
  body.push(...get('row'), ...i32(UNROLL), OP.i32Add, ...set('row'), OP.br, 0)
  body.push(OP.end, OP.end)
  // The remaining rows one at a time.
  body.push(OP.block, OP.void, OP.loop, OP.void)
  body.push(...get('row'), ...get('n'), OP.i32LtU, OP.i32Const, 0, 0x46, OP.brIf, 1)
  body.push(...distanceCode(words, q0, 0), ...set('d'), ...consider('d', 0))
  body.push(...get('p'), ...i32(stride), OP.i32Add, ...set('p'))
  body.push(...get('row'), ...i32(1), OP.i32Add, ...set('row'), OP.br, 0)
  body.push(OP.end, OP.end)
  body.push(...get('tauOff'), ...get('tau'), ...mem(OP.i32Store, 2))
  body.push(...get('stored'), OP.end)
  const locals = [[...uleb(LOCALS.length), OP.i32], [...uleb(qCount), qType]]
  const fn = [...vec(locals), ...body]
  return [...uleb(fn.length), ...fn]
}

function assembleScanModule (words: number, codeBits: number): Uint8Array {
  const scan = {
    typeEntry: () => [0x60, ...vec(PARAMS.map(() => [OP.i32])), ...vec([[OP.i32]])],
    encode: () => scanFunction(words, codeBits),
  }
  return assembleModule([['scan', scan], ['distances', distancesFunction(words)], ['collect', collectFunction()]])
}

/** Bytes of the four distance histograms `distances` fills (256 i32 each). */
export const HISTOGRAMS_BYTES = 4 * 256 * 4

/**
 * distances(codesOff, n, qOff, distOff, exclOff, histOff): the first pass of the two-pass scan.
 * dist[row] = the row's distance, or 255 when its bit in the exclusion bitmap is set, and the
 * four histograms at histOff (row & 3 picks one, so consecutive increments of a common distance
 * do not wait on each other) count them. No branch depends on the data: where learned codes
 * put most rows within a few bits of the running radius, the one-pass scan's slow path ran for
 * a large share of rows.
 */
function distancesFunction (words: number): FunctionBuilder {
  const f = new FunctionBuilder([['codesOff', I32], ['n', I32], ['qOff', I32], ['distOff', I32], ['exclOff', I32], ['histOff', I32]], [])
  const stride = words * 4
  const halves = words === 1 ? 1 : words / 2
  f.local('row', I32).local('p', I32).local('d', I32).local('bits', I32).local('addr', I32)
  for (let h = 0; h < halves; h++) f.local(`q${h}`, words === 1 ? I32 : I64)
  for (let h = 0; h < halves; h++) {
    f.get('qOff')
    if (words === 1) f.mem(OP.i32Load, 2, 0)
    else f.mem(OP.i64Load, 3, h * 8)
    f.set(`q${h}`)
  }
  const distance = (offset: number): void => {
    if (words === 1) {
      f.get('p').mem(OP.i32Load, 2, offset).get('q0').op(OP.i32Xor).op(OP.i32Popcnt)
      return
    }
    for (let h = 0; h < halves; h++) {
      f.get('p').mem(OP.i64Load, 3, offset + h * 8).get(`q${h}`).op(OP.i64Xor).op(OP.i64Popcnt)
      if (h > 0) f.op(OP.i64Add)
    }
    f.op(OP.i32WrapI64)
  }
  /** One row (row + u): distance, 255 if excluded (bit u of `bits`), stored and counted in histogram `hist`. */
  const one = (u: number, hist: number): void => {
    distance(u * stride)
    f.set('d')
    // select(255, d, excluded)
    f.i32(255).get('d').get('bits').i32(u).op(OP.i32ShrU).i32(1).op(OP.i32And).op(OP.select).set('d')
    f.get('distOff').get('row').op(OP.i32Add).get('d').mem(OP.i32Store8, 0, u)
    f.get('histOff').get('d').i32(2).op(OP.i32Shl).op(OP.i32Add).tee('addr')
    f.get('addr').mem(OP.i32Load, 2, hist * 1024).i32(1).op(OP.i32Add).mem(OP.i32Store, 2, hist * 1024)
  }
  f.get('codesOff').set('p')
  f.block('groups', () => {
    f.loop('group', () => {
      f.get('row').i32(4).op(OP.i32Add).get('n').op(OP.i32GtU).brIf('groups')
      // The exclusion bits of rows row .. row + 3 (row is a multiple of 4: one byte holds them).
      f.get('exclOff').get('row').i32(3).op(OP.i32ShrU).op(OP.i32Add).mem(OP.i32Load8U, 0).get('row').i32(7).op(OP.i32And).op(OP.i32ShrU).set('bits')
      for (let u = 0; u < 4; u++) one(u, u)
      f.get('p').i32(4 * stride).op(OP.i32Add).set('p')
      f.add('row', 4).br('group')
    })
  })
  f.block('rest', () => {
    f.loop('tail', () => {
      f.get('row').get('n').op(OP.i32GeU).brIf('rest')
      f.get('exclOff').get('row').i32(3).op(OP.i32ShrU).op(OP.i32Add).mem(OP.i32Load8U, 0).get('row').i32(7).op(OP.i32And).op(OP.i32ShrU).set('bits')
      one(0, 0)
      f.get('p').i32(stride).op(OP.i32Add).set('p')
      f.add('row', 1).br('tail')
    })
  })
  return f
}

/**
 * collect(n, tau, distOff, rowsOff) -> stored: the second pass. Rows with dist <= tau, in row
 * order, to rows[0, stored), their distances compacted to dist[0, stored) (in place: stored <= row).
 */
function collectFunction (): FunctionBuilder {
  const f = new FunctionBuilder([['n', I32], ['tau', I32], ['distOff', I32], ['rowsOff', I32]], [I32])
  f.local('row', I32).local('d', I32).local('stored', I32)
  f.block('done', () => {
    f.loop('next', () => {
      f.get('row').get('n').op(OP.i32GeU).brIf('done')
      f.get('distOff').get('row').op(OP.i32Add).mem(OP.i32Load8U, 0).tee('d').get('tau').op(OP.i32LeU).if(() => {
        f.get('rowsOff').get('stored').i32(2).op(OP.i32Shl).op(OP.i32Add).get('row').mem(OP.i32Store, 2)
        f.get('distOff').get('stored').op(OP.i32Add).get('d').mem(OP.i32Store8, 0)
        f.add('stored', 1)
      })
      f.add('row', 1).br('next')
    })
  })
  f.get('stored')
  return f
}

export type WasmScan = (codesOff: number, n: number, qOff: number, histOff: number, rowsOff: number, distOff: number, need: number, tauOff: number, exclOff: number) => number
export interface WasmScanFunctions {
  readonly scan: WasmScan
  readonly distances: (codesOff: number, n: number, qOff: number, distOff: number, exclOff: number, histOff: number) => void
  readonly collect: (n: number, tau: number, distOff: number, rowsOff: number) => number
}

const moduleCache = new Map<number, object>()

/** Instantiates the scan for `codeWords`-word codes over `memory` (synchronous: modules are a few hundred bytes). */
export function instantiateHammingScan (codeWords: number, memory: WasmMemory): WasmScanFunctions {
  if (codeWords !== 1 && codeWords !== 2 && codeWords !== 4) throw new Error(`unsupported code width: ${codeWords} words`)
  let mod = moduleCache.get(codeWords)
  if (!mod) {
    mod = new wasm.Module(assembleScanModule(codeWords, codeWords * 32))
    moduleCache.set(codeWords, mod)
  }
  const instance = new wasm.Instance(mod, { env: { memory } })
  return instance.exports as unknown as WasmScanFunctions
}
