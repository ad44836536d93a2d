/**
 * The fold-in's rank update X^T X (and the column sums X^T 1) over the user's item rows X, as a
 * WebAssembly SIMD kernel. At the 2,000-row cap and d = 64 the update is ~4.2 M multiply-adds,
 * nearly all of a solve's time; the JavaScript loop (src/realtime/fold-in.ts) does them one float64
 * at a time through typed-array loads and stores. Here a 4 x 4 tile of the upper triangle stays in
 * eight f64x2 registers while every row of X streams past it (two f64x2 loads of the tile's
 * columns and four load64_splat of its rows per item row), so the accumulator is read and written
 * once per tile and chunk instead of once per item row.
 *
 * Rows are gathered per call, a chunk at a time (128 KiB of float64, which stays in L2), not
 * copied into the module once per model, which would double the item vectors' memory (256 MB more
 * for a 1M x 64 catalog). The caller copies each float32 row with TypedArray.set (a memcpy) and
 * the kernel converts them: 2,000 random rows of d = 64 took 0.14 ms so against 0.35 ms for a
 * JavaScript loop converting as it copies. The module
 * depends only on the padded dimension, so it is compiled once per dimension and instantiated
 * once per scratch (one per model's query context). Accumulation is float64, as in JavaScript;
 * only the order of the additions differs.
 */
import { assembleModule, FunctionBuilder, I32, OP, SIMD, simdSupported, uleb, V128, wasm, tryCreateWasmMemory } from '../search/wasm/assembler.js'

const SIMD_OP = { v128Load: 0x00, load64Splat: 0x0a, v128Store: 0x0b, v128Const: 0x0c, load64Zero: 0x5d, f64x2PromoteLow: 0x5f, f64x2Add: 0xf0, f64x2Mul: 0xf2 } as const

/** Bytes of gathered float64 rows per kernel call: a chunk that stays in a 512 KiB L2 with the accumulator. */
const CHUNK_BYTES = 131_072

export interface FoldInKernel {
  /** Columns per gathered row: the dimension rounded up to a multiple of 4 (the extra ones stay 0). */
  readonly stride: number
  /** Rows one `accumulate` call takes at most. */
  readonly chunkRows: number
  /** Where the caller gathers the rows as they are (float32), `stride` apart; columns past the dimension stay 0. */
  readonly staged: Float32Array
  /** stride x stride, row-major: the upper triangle (and the 4 x 4 diagonal blocks) of sum_rows x x^T. */
  readonly gram: Float64Array
  /** sum_rows x, `stride` entries (padded to a multiple of 16). */
  readonly sums: Float64Array
  /** Adds rows[0..count) into gram and sums. */
  accumulate (count: number): void
}

const compiled = new Map<number, object>()

/**
 * A kernel for `dimension`, or null when WebAssembly SIMD or the memory is unavailable (the
 * caller then takes its JavaScript path).
 */
export function createFoldInKernel (dimension: number): FoldInKernel | null {
  if (dimension <= 0 || !simdSupported()) return null
  const stride = Math.ceil(dimension / 4) * 4
  const sumStride = Math.ceil(stride / 16) * 16
  const chunkRows = Math.max(4, Math.floor(CHUNK_BYTES / (stride * 8)))
  const stagedOff = chunkRows * stride * 8
  const gramOff = stagedOff + chunkRows * stride * 4
  // The column sums read 16 columns at a time: up to 12 past the last row's end, inside the gram.
  const sumsOff = gramOff + stride * stride * 8
  const memory = tryCreateWasmMemory(sumsOff + sumStride * 8)
  if (memory === null) return null
  try {
    let module = compiled.get(stride)
    if (module === undefined) {
      module = new wasm.Module(assembleModule([['accumulate', accumulateKernel(stride, stagedOff, gramOff, sumsOff)]]))
      compiled.set(stride, module)
    }
    const accumulate = new wasm.Instance(module, { env: { memory } }).exports.accumulate as (count: number) => void
    return {
      stride,
      chunkRows,
      staged: new Float32Array(memory.buffer, stagedOff, chunkRows * stride),
      gram: new Float64Array(memory.buffer, gramOff, stride * stride),
      sums: new Float64Array(memory.buffer, sumsOff, sumStride),
      accumulate,
    }
  } catch {
    return null
  }
}

/**
 * accumulate(count): gram += X^T X over the upper 4 x 4 tiles, sums += X^T 1, X = the first
 * `count` gathered rows. Offsets and the stride are baked in as immediates.
 */
function accumulateKernel (stride: number, stagedOff: number, gramOff: number, sumsOff: number): FunctionBuilder {
  const rowBytes = stride * 8
  const f = new FunctionBuilder([['count', I32]], [])
  f.local('end', I32).local('ib', I32).local('jb', I32).local('pi', I32).local('pj', I32).local('stop', I32).local('at', I32)
  for (let t = 0; t < 8; t++) f.local(`a${t}`, V128)
  f.local('c0', V128).local('c1', V128).local('s', V128)
  const simd = (op: number, ...imm: number[]): void => { f.op(SIMD, ...uleb(op), ...imm) }
  const zero = (n: string): void => { simd(SIMD_OP.v128Const, ...new Array<number>(16).fill(0)); f.set(n) }
  /** a += b * c (f64x2), no fused multiply-add in WebAssembly SIMD. */
  const madd = (a: string, b: string, c: string): void => { f.get(b).get(c); simd(SIMD_OP.f64x2Mul); f.get(a); simd(SIMD_OP.f64x2Add); f.set(a) }
  /** memory[at + offset] += local (f64x2). */
  const addTo = (offset: number, n: string): void => {
    f.get('at').get('at'); simd(SIMD_OP.v128Load, 3, ...uleb(offset)); f.get(n); simd(SIMD_OP.f64x2Add); simd(SIMD_OP.v128Store, 3, ...uleb(offset))
  }

  f.get('count').i32(rowBytes).op(OP.i32Mul).set('end')
  // Float32 -> float64, two at a time: the staged rows have the same stride as the float64 ones.
  f.block('converted', () => {
    f.loop('convert', () => {
      f.get('pj').get('end').op(OP.i32GeU).brIf('converted')
      f.get('pj').get('pj').i32(1).op(OP.i32ShrU); simd(SIMD_OP.load64Zero, 3, ...uleb(stagedOff)); simd(SIMD_OP.f64x2PromoteLow)
      simd(SIMD_OP.v128Store, 3, 0)
      f.add('pj', 16).br('convert')
    })
  })
  f.loop('rowBlock', () => {
    f.get('ib').set('jb')
    f.loop('colBlock', () => {
      for (let t = 0; t < 8; t++) zero(`a${t}`)
      f.get('ib').i32(3).op(OP.i32Shl).tee('pi').get('end').op(OP.i32Add).set('stop')
      f.get('jb').i32(3).op(OP.i32Shl).set('pj')
      f.block('rowsDone', () => {
        f.loop('row', () => {
          f.get('pi').get('stop').op(OP.i32GeU).brIf('rowsDone')
          f.get('pj'); simd(SIMD_OP.v128Load, 3, 0); f.set('c0')
          f.get('pj'); simd(SIMD_OP.v128Load, 3, 16); f.set('c1')
          for (let r = 0; r < 4; r++) {
            f.get('pi'); simd(SIMD_OP.load64Splat, 3, ...uleb(r * 8)); f.set('s')
            madd(`a${2 * r}`, 's', 'c0')
            madd(`a${2 * r + 1}`, 's', 'c1')
          }
          f.add('pi', rowBytes).add('pj', rowBytes).br('row')
        })
      })
      // at = byte offset of gram[ib][jb] relative to gramOff.
      f.get('ib').i32(stride).op(OP.i32Mul).get('jb').op(OP.i32Add).i32(3).op(OP.i32Shl).set('at')
      for (let r = 0; r < 4; r++) {
        addTo(gramOff + r * rowBytes, `a${2 * r}`)
        addTo(gramOff + r * rowBytes + 16, `a${2 * r + 1}`)
      }
      f.add('jb', 4).get('jb').i32(stride).op(OP.i32LtU).brIf('colBlock')
    })
    f.add('ib', 4).get('ib').i32(stride).op(OP.i32LtU).brIf('rowBlock')
  })

  // Column sums, 16 columns (eight f64x2) per pass over the rows.
  f.i32(0).set('jb')
  f.loop('sumBlock', () => {
    for (let t = 0; t < 8; t++) zero(`a${t}`)
    f.get('jb').i32(3).op(OP.i32Shl).tee('pj').get('end').op(OP.i32Add).set('stop')
    f.block('sumRowsDone', () => {
      f.loop('sumRow', () => {
        f.get('pj').get('stop').op(OP.i32GeU).brIf('sumRowsDone')
        for (let t = 0; t < 8; t++) { f.get('pj'); simd(SIMD_OP.v128Load, 3, t * 16); f.get(`a${t}`); simd(SIMD_OP.f64x2Add); f.set(`a${t}`) }
        f.add('pj', rowBytes).br('sumRow')
      })
    })
    f.get('jb').i32(3).op(OP.i32Shl).set('at')
    for (let t = 0; t < 8; t++) addTo(sumsOff + t * 16, `a${t}`)
    f.add('jb', 16).get('jb').i32(stride).op(OP.i32LtU).brIf('sumBlock')
  })
  return f
}
