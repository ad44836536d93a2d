/**
 * A small WebAssembly assembler for the search kernels: the binary format's opcodes, LEB128, and a
 * function builder with named locals and labelled blocks, so a kernel reads as structured code
 * instead of raw branch depths. No toolchain and no binary blob: modules are assembled at load time
 * from these calls (a few kilobytes, compiled synchronously). MVP instructions only, which V8
 * lowers to native POPCNT, shifts and loads without bounds checks that JavaScript cannot avoid.
 */

/** Opcodes of the WebAssembly core specification's binary format. */
export const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, select: 0x1b, drop: 0x1a,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, i32Load8U: 0x2d, i64Load32U: 0x35, i32Store: 0x36, i64Store: 0x37, i32Store8: 0x3a,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b, i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i32Clz: 0x67, i32Ctz: 0x68, i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c,
  i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76,
  i64Popcnt: 0x7b, i64Add: 0x7c, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86, i64ShrU: 0x88,
  i32WrapI64: 0xa7, i64ExtendI32U: 0xad,
} as const

/** Value types. */
export const I32 = 0x7f
export const I64 = 0x7e
export const V128 = 0x7b
/** Prefix byte of the SIMD proposal's instructions (their opcode follows as LEB128). */
export const SIMD = 0xfd
const VOID = 0x40

export function uleb (n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

/** Signed LEB128 of a 32-bit integer (i32.const immediates). */
export function sleb (n: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) { out.push(byte); return out }
    out.push(byte | 0x80)
  }
}

/** Signed LEB128 of a 64-bit integer given as a bigint (i64.const immediates). */
export function sleb64 (n: bigint): number[] {
  const out: number[] = []
  for (;;) {
    const byte = Number(n & 0x7fn)
    n >>= 7n
    if ((n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0)) { out.push(byte); return out }
    out.push(byte | 0x80)
  }
}

export function section (id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body]
}

export function vec (items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()]
}

function name (s: string): number[] {
  return vec([...s].map((ch) => [ch.charCodeAt(0)]))
}

/**
 * One function's body. Locals are named; blocks and loops take a label that `br`/`brIf` name, and
 * the builder turns labels into the relative depths the binary format wants. Memory accesses
 * take a byte offset immediate, so per-table constants can be baked into the code.
 */
export class FunctionBuilder {
  readonly code: number[] = []
  private readonly index = new Map<string, number>()
  private readonly localTypes: number[] = []
  private readonly labels: (string | null)[] = []
  private readonly paramCount: number

  constructor (readonly params: readonly (readonly [string, number])[], readonly results: readonly number[]) {
    params.forEach(([n], i) => this.index.set(n, i))
    this.paramCount = params.length
  }

  local (n: string, type: number): this {
    if (this.index.has(n)) throw new Error(`local ${n} declared twice`)
    this.index.set(n, this.paramCount + this.localTypes.length)
    this.localTypes.push(type)
    return this
  }

  private slot (n: string): number {
    const i = this.index.get(n)
    if (i === undefined) throw new Error(`unknown local ${n}`)
    return i
  }

  /** Raw bytes (opcodes and immediates). */
  op (...bytes: number[]): this { this.code.push(...bytes); return this }
  get (n: string): this { return this.op(OP.localGet, ...uleb(this.slot(n))) }
  set (n: string): this { return this.op(OP.localSet, ...uleb(this.slot(n))) }
  tee (n: string): this { return this.op(OP.localTee, ...uleb(this.slot(n))) }
  i32 (v: number): this { return this.op(OP.i32Const, ...sleb(v | 0)) }
  i64 (v: bigint): this { return this.op(OP.i64Const, ...sleb64(BigInt.asIntN(64, v))) }
  /** A load or store with its alignment exponent and constant byte offset. */
  mem (opcode: number, align: number, offset = 0): this { return this.op(opcode, align, ...uleb(offset)) }
  /** local += delta (i32). */
  add (n: string, delta: number): this { return this.get(n).i32(delta).op(OP.i32Add).set(n) }

  private depth (label: string): number {
    for (let d = 0; d < this.labels.length; d++) if (this.labels[this.labels.length - 1 - d] === label) return d
    throw new Error(`no enclosing block labelled ${label}`)
  }

  br (label: string): this { return this.op(OP.br, ...uleb(this.depth(label))) }
  brIf (label: string): this { return this.op(OP.brIf, ...uleb(this.depth(label))) }

  block (label: string, body: () => void): this { return this.structured(OP.block, label, body) }
  /** `br label` inside jumps back to the top of the loop. */
  loop (label: string, body: () => void): this { return this.structured(OP.loop, label, body) }
  /** Pops an i32 condition. */
  if (then: () => void, otherwise?: () => void): this {
    this.op(OP.if, VOID)
    this.labels.push(null)
    then()
    if (otherwise) { this.op(OP.else); otherwise() }
    this.labels.pop()
    return this.op(OP.end)
  }

  private structured (opcode: number, label: string, body: () => void): this {
    this.op(opcode, VOID)
    this.labels.push(label)
    body()
    this.labels.pop()
    return this.op(OP.end)
  }

  /** The function's entry in the code section. */
  encode (): number[] {
    const groups = this.localTypes.map((t) => [1, t])
    const fn = [...vec(groups), ...this.code, OP.end]
    return [...uleb(fn.length), ...fn]
  }

  typeEntry (): number[] {
    return [0x60, ...vec(this.params.map(([, t]) => [t])), ...vec(this.results.map((t) => [t]))]
  }
}

/** What a module needs of a function: its type entry and its code-section entry. */
export interface AssembledFunction {
  typeEntry (): number[]
  encode (): number[]
}

/** A module importing "env" "memory" and exporting each function under its name. */
export function assembleModule (functions: readonly (readonly [string, AssembledFunction])[]): Uint8Array {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  const types = section(1, vec(functions.map(([, f]) => f.typeEntry())))
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]]))
  const funcs = section(3, vec(functions.map((_, i) => uleb(i))))
  const exports = section(7, vec(functions.map(([n], i) => [...name(n), 0x00, ...uleb(i)])))
  const code = section(10, vec(functions.map(([, f]) => f.encode())))
  return new Uint8Array([...magic, ...types, ...imports, ...funcs, ...exports, ...code])
}

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
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

export const WASM_PAGE_BYTES = 65536

export function createWasmMemory (bytes: number): WasmMemory {
  return new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES)) })
}

/**
 * A memory of `bytes`, or null when WebAssembly cannot have it: a 32-bit memory stops at 4 GiB
 * (2 GiB is kept as the limit here) and a large one can fail to allocate. Callers then keep their
 * data in plain arrays and use their JavaScript path.
 */
export function tryCreateWasmMemory (bytes: number, limit = MAX_WASM_MEMORY_BYTES): WasmMemory | null {
  if (bytes > limit) return null
  try {
    return createWasmMemory(bytes)
  } catch {
    return null
  }
}

export const MAX_WASM_MEMORY_BYTES = 2 ** 31

/** Compiles and instantiates `bytes` over `memory`; returns its exports. */
export function instantiate (bytes: Uint8Array, memory: WasmMemory): Record<string, unknown> {
  return new wasm.Instance(new wasm.Module(bytes), { env: { memory } }).exports
}

let simd: boolean | undefined

/** Whether this engine runs WebAssembly SIMD (every Node >= 16.4 on x86-64 and arm64 does); probed once. */
export function simdSupported (): boolean {
  simd ??= probeSimd()
  return simd
}

function probeSimd (): boolean {
  try {
    // i32x4.splat then i32x4.extract_lane 0.
    const f = new FunctionBuilder([], [I32])
    f.local('v', V128)
    f.i32(0).op(SIMD, 0x11).set('v').get('v').op(SIMD, 0x1b, 0)
    instantiate(assembleModule([['probe', f]]), createWasmMemory(1))
    return true
  } catch {
    return false
  }
}
