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

// Opcodes of the WebAssembly core specification's binary format (MVP instructions only).
const OP = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, i32Store: 0x36, i32Store8: 0x3a,
  i32Const: 0x41,
  i32LtS: 0x48, i32LtU: 0x49, i32LeU: 0x4d,
  i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Shl: 0x74, i32Xor: 0x73,
  i64Popcnt: 0x7b, i64Add: 0x7c, i64Xor: 0x85, i32WrapI64: 0xa7,
  void: 0x40, i32: 0x7f, i64: 0x7e,
} as const

function uleb (n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

function sleb (n: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) { out.push(byte); return out }
    out.push(byte | 0x80)
  }
}

function section (id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body]
}

function vec (items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()]
}

const UNROLL = 4
const PARAMS = ['codesOff', 'n', 'qOff', 'histOff', 'rowsOff', 'distOff', 'need', 'tauOff'] as const
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

/** The slow path for one row (row + rowDelta) at distance in local d: keep it if within tau, then shrink tau. */
function consider (d: Name, rowDelta: number): number[] {
  const body: number[] = []
  body.push(...get(d), ...get('tau'), OP.i32LeU, OP.if, OP.void)
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
  body.push(OP.end) // if
  return body
}

/**
 * scan(codesOff, n, qOff, histOff, rowsOff, distOff, need, tauOff) -> stored.
 * Writes (row, distance) for every row that was within the running radius when visited, in row
 * order, and the final radius tau at tauOff: exactly the rows with distance <= tau are among those
 * written, and at least `need` rows have distance <= tau. hist must be zeroed by the caller.
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

function assembleModule (words: number, codeBits: number): Uint8Array {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  const funcType = [0x60, ...vec(PARAMS.map(() => [OP.i32])), ...vec([[OP.i32]])]
  const types = section(1, vec([funcType]))
  const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]))
  // import "env" "memory" (memory min 1)
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]]))
  const funcs = section(3, vec([[0]]))
  const exports = section(7, vec([[...name('scan'), 0x00, 0x00]]))
  const code = section(10, vec([scanFunction(words, codeBits)]))
  return new Uint8Array([...magic, ...types, ...imports, ...funcs, ...exports, ...code])
}

export type WasmScan = (codesOff: number, n: number, qOff: number, histOff: number, rowsOff: number, distOff: number, need: number, tauOff: number) => number

/**
 * The slice of the WebAssembly JS API used here. Node has it as a global, but the project's lib
 * (ES2023, no DOM) and @types/node 20 do not declare it, so it is typed locally instead of pulling in lib.dom.
 */
export interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

export const WASM_PAGE_BYTES = 65536

export function createWasmMemory (bytes: number): WasmMemory {
  return new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES)) })
}

const moduleCache = new Map<number, object>()

/** Instantiates the scan for `codeWords`-word codes over `memory` (synchronous: modules are a few hundred bytes). */
export function instantiateHammingScan (codeWords: number, memory: WasmMemory): WasmScan {
  if (codeWords !== 1 && codeWords !== 2 && codeWords !== 4) throw new Error(`unsupported code width: ${codeWords} words`)
  let mod = moduleCache.get(codeWords)
  if (!mod) {
    mod = new wasm.Module(assembleModule(codeWords, codeWords * 32))
    moduleCache.set(codeWords, mod)
  }
  const instance = new wasm.Instance(mod, { env: { memory } })
  return instance.exports.scan as WasmScan
}
