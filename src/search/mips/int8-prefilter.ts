/**
 * An exact re-rank that reads a quarter of the bytes. On a 1M-item catalog the hybrid's 200
 * candidates are 200 random 256-byte vectors: the re-rank was ~40-50 us of cache and TLB misses
 * and scalar multiply-adds. Here each candidate is first scored from an int8 copy of its vector
 * (one 64-byte line, WebAssembly SIMD integer dot products), with a rigorous bound on that score's
 * error; only candidates whose bound reaches the k-th best are re-scored from the float vectors,
 * by the same code as before. The result is the exact re-rank's, bit for bit:
 *
 *   v_ij = S_j c_ij + r_ij, |r_ij| <= S_j / 2 (per-dimension scale S_j = max_i |v_ij| / 127)
 *   q_j S_j = t Q_j + s_j,  |s_j| <= t / 2    (the query's per-dimension weights as int16)
 *   q . v_i = t sum_j Q_j c_ij + err_i,  |err_i| <= 1/2 sum_j |q_j| S_j + t/2 sum_j |c_ij| =: e
 *
 * With a_i = t sum_j Q_j c_ij (+ bias), every candidate's exact score lies in [a_i - e, a_i + e].
 * The k-th best exact score is at least L = (k-th largest a) - e, so a candidate with
 * a_i + e < L cannot be in the top k, nor tie with it: only a_i >= (k-th largest a) - 2e can.
 * Those are re-scored best approximate score first, stopping once the next one's upper bound
 * a_i + e is below the k-th best exact score so far (itself at most the final k-th best): on 1M
 * synthetic vectors, 200 candidates, k = 10, 24.5 re-scored on average (49 for the static band).
 * e also carries a relative slack for floating-point rounding in both computations.
 */
import { assembleModule, FunctionBuilder, I32, instantiate, OP, SIMD, simdSupported, tryCreateWasmMemory, uleb, V128 } from '../wasm/assembler.js'
import { nextTurn, runAll, runInSlices } from '../../util/steps.js'
import { TopKHeap } from '../top-k.js'
import { scoreRows, type MipsItems } from './brute-force.js'

export { simdSupported }

const SIMD_OP = { v128Load: 0x00, load8x8S: 0x01, i32x4Splat: 0x11, i32x4ExtractLane: 0x1b, i32x4Add: 0xae, dotI16x8S: 0xba } as const

const ROUNDER = 6755399441055744
/** Candidates whose float vectors are requested together when re-scoring (see scoreRows). */
const RESCORE_BATCH = 8

/** Rounding slack on the bound: relative, and absolute against the largest term sizes. */
const RELATIVE_SLACK = 1e-6

export interface Int8Prefilter {
  /** Bytes held (the int8 copy and scratch). */
  readonly memoryBytes: number
  /**
   * False until the int8 copy is built: a large catalog's is built in slices that yield to the
   * event loop (1M x 64 took ~420 ms in one piece), so a model swap does not stall serving. Until
   * then callers score every candidate from the float vectors: the same results, slower.
   */
  readonly ready: boolean
  readonly whenReady: Promise<void>
  /**
   * Exact scores of the candidates that can be in the top k, into `rowsOut`/`scoresOut`
   * (capacity >= count); returns how many. Any row not returned scores below the k-th best.
   */
  filter (rows: Int32Array, count: number, query: Float32Array, k: number, rowsOut: Int32Array, scoresOut: Float64Array): number
}

/** Rows quantized per slice before yielding: 1M x 64 in slices of 32k kept the longest event-loop gap at 14 ms (65k: 25 ms). */
export const PREFILTER_SLICE_ROWS = 32_768

export function createInt8Prefilter (items: MipsItems, maxCandidates: number, maxMemoryBytes?: number, sliceRows = PREFILTER_SLICE_ROWS): Int8Prefilter | null {
  const { itemVectors, itemBias, dimension: d, itemCount } = items
  if (itemCount === 0 || d === 0 || !simdSupported()) return null
  const dPad = Math.ceil(d / 16) * 16
  // Sums of dPad products |Q| <= qMax, |c| <= 127 must stay within int32.
  const qMax = Math.min(32767, Math.floor(0x7fffffff / (127 * dPad)))

  // Layout: int8 rows (dPad bytes each, so 64-byte rows at d = 64), query int16, candidate rows, sums.
  const codesBytes = itemCount * dPad
  const queryOff = Math.ceil(codesBytes / 16) * 16
  const rowsOff = queryOff + dPad * 2
  const sumsOff = rowsOff + maxCandidates * 4
  // A catalog too large for one WebAssembly memory re-ranks from the float vectors alone.
  const memory = tryCreateWasmMemory(sumsOff + maxCandidates * 4, maxMemoryBytes)
  if (memory === null) return null
  let maxBias = 0
  if (itemBias) for (let i = 0; i < itemCount; i++) maxBias = Math.max(maxBias, Math.abs(itemBias[i]))
  const codes = new Int8Array(memory.buffer, 0, codesBytes)
  const scale = new Float64Array(d)
  let maxAbsCodes = 0
  let ready = false
  const build = function * (): Generator<void> {
    for (let from = 0; from < itemCount; from += sliceRows) {
      dimensionScales(itemVectors, from, Math.min(itemCount, from + sliceRows), d, scale)
      yield
    }
    for (let j = 0; j < d; j++) scale[j] = Math.fround(scale[j] / 127)
    for (let from = 0; from < itemCount; from += sliceRows) {
      maxAbsCodes = Math.max(maxAbsCodes, quantizeRows(itemVectors, from, Math.min(itemCount, from + sliceRows), d, dPad, scale, codes))
      yield
    }
    ready = true
  }
  const whenReady = itemCount <= sliceRows
    ? Promise.resolve(runAll(build()))
    : nextTurn().then(() => runInSlices(build()))

  const queryView = new Int16Array(memory.buffer, queryOff, dPad)
  const rowsView = new Int32Array(memory.buffer, rowsOff, maxCandidates)
  const sumsView = new Int32Array(memory.buffer, sumsOff, maxCandidates)
  const weights = new Float64Array(d)
  const approx = new Float64Array(maxCandidates)
  const order = new Int32Array(maxCandidates)
  // The k best approximate scores, then the k best exact ones: each heap's threshold is its k-th.
  const best = new TopKHeap(maxCandidates)
  const run = instantiate(assembleModule([['approx', approxKernel(dPad, queryOff, rowsOff, sumsOff)]]), memory).approx as (count: number) => void

  return {
    memoryBytes: memory.buffer.byteLength,
    get ready () { return ready },
    whenReady,
    filter (rows, count, query, k, rowsOut, scoresOut) {
      if (!ready) throw new Error('the int8 copy is still being built (check ready)')
      if (count > maxCandidates) throw new RangeError(`at most ${maxCandidates} candidates, got ${count}`)
      if (k >= count) {
        for (let i = 0; i < count; i++) rowsOut[i] = rows[i]
        scoreRows(items, rowsOut, count, query, scoresOut)
        return count
      }
      // half = sum_j |q_j| S_j; 127 * half bounds sum_j |q_j v_ij|, the size of the float sums' rounding.
      let half = 0
      let maxW = 0
      for (let j = 0; j < d; j++) {
        const w = query[j] * scale[j]
        weights[j] = w
        const a = Math.abs(w)
        half += a
        if (a > maxW) maxW = a
      }
      const t = maxW === 0 ? 1 : maxW / qMax
      for (let j = 0; j < d; j++) queryView[j] = Math.round(weights[j] / t)
      const e = (0.5 * half + 0.5 * t * maxAbsCodes) * (1 + RELATIVE_SLACK) + RELATIVE_SLACK * (127 * half + maxBias)
      for (let i = 0; i < count; i++) rowsView[i] = rows[i]
      run(count)
      for (let i = 0; i < count; i++) approx[i] = t * sumsView[i] + (itemBias ? itemBias[rows[i]] : 0)
      best.reset(k)
      for (let i = 0; i < count; i++) best.push(i, approx[i])
      const threshold = best.threshold - 2 * e
      // The possible ones, best approximate score first (a max-heap of their indices): re-scored a
      // batch at a time until the next one's upper bound falls below the k-th best exact score so
      // far, which is never above the final k-th best. Typically about half the static band.
      let size = 0
      for (let i = 0; i < count; i++) {
        if (approx[i] < threshold) continue
        let c = size++
        while (c > 0) { const p = (c - 1) >> 1; if (approx[order[p]] >= approx[i]) break; order[c] = order[p]; c = p }
        order[c] = i
      }
      let n = 0
      best.reset(k)
      while (size > 0) {
        const from = n
        while (n - from < RESCORE_BATCH && size > 0) {
          const top = order[0]
          // threshold: the k-th exact score so far (-Infinity until k are scored).
          if (approx[top] + e < best.threshold) { size = 0; break }
          rowsOut[n++] = rows[top]
          // Pop: move the last index down from the root.
          const last = order[--size]
          let c = 0
          for (;;) {
            const l = 2 * c + 1
            if (l >= size) break
            const r = l + 1
            const m = r < size && approx[order[r]] > approx[order[l]] ? r : l
            if (approx[order[m]] <= approx[last]) break
            order[c] = order[m]
            c = m
          }
          order[c] = last
        }
        scoreRows(items, rowsOut, n, query, scoresOut, from)
        for (let i = from; i < n; i++) best.push(rowsOut[i], scoresOut[i])
      }
      return n
    },
  }
}

/** scale[j] = max(scale[j], max over rows [from, to) of |v_ij|): S_j * 127 once every row is in. */
function dimensionScales (vectors: Float32Array, from: number, to: number, d: number, scale: Float64Array): void {
  for (let i = from; i < to; i++) {
    const base = i * d
    for (let j = 0; j < d; j++) {
      // Math.abs, not a sign test: signs of trained embeddings are coin flips to the branch predictor (3.5x slower).
      const a = Math.abs(vectors[base + j])
      if (a > scale[j]) scale[j] = a
    }
  }
}

/**
 * c_ij = v_ij / S_j rounded to the nearest integer for rows [from, to), into rows of dPad bytes;
 * returns the largest sum_j |c_ij| over those rows (it bounds the query-rounding term).
 */
function quantizeRows (vectors: Float32Array, from: number, to: number, d: number, dPad: number, scale: Float64Array, codes: Int8Array): number {
  const inverse = new Float64Array(d)
  for (let j = 0; j < d; j++) inverse[j] = scale[j] === 0 ? 0 : 1 / scale[j]
  let maxAbs = 0
  for (let i = from; i < to; i++) {
    const src = i * d
    const dst = i * dPad
    let abs = 0
    for (let j = 0; j < d; j++) {
      // Round to nearest by the 1.5 * 2^52 trick (adding it leaves no fraction bits): no test on
      // the sign, which is a coin flip to the branch predictor (Math.round and a sign test were 2-3x
      // slower). |x| <= 127 up to the float32 rounding of S_j, so the clamps are never taken.
      let c = ((vectors[src + j] * inverse[j] + ROUNDER) - ROUNDER) | 0
      if (c > 127) c = 127
      else if (c < -127) c = -127
      codes[dst + j] = c
      const sign = c >> 31
      abs += (c ^ sign) - sign
    }
    if (abs > maxAbs) maxAbs = abs
  }
  return maxAbs
}

/**
 * approx(count): sums[i] = sum_j Q_j c_{rows[i], j} for i < count. The query's int16 lanes stay in
 * locals; each row is dPad / 8 sign-extending 8-byte loads and i32x4.dot_i16x8_s.
 */
function approxKernel (dPad: number, queryOff: number, rowsOff: number, sumsOff: number): FunctionBuilder {
  const f = new FunctionBuilder([['count', I32]], [])
  const lanes = dPad / 8
  f.local('i', I32).local('base', I32).local('acc', V128)
  for (let l = 0; l < lanes; l++) f.local(`q${l}`, V128)
  const simd = (op: number, ...imm: number[]): void => { f.op(SIMD, ...uleb(op), ...imm) }
  for (let l = 0; l < lanes; l++) { f.i32(queryOff + l * 16); simd(SIMD_OP.v128Load, 4, 0); f.set(`q${l}`) }
  f.block('done', () => {
    f.loop('row', () => {
      f.get('i').get('count').op(OP.i32GeU).brIf('done')
      f.get('i').i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, rowsOff).i32(dPad).op(OP.i32Mul).set('base')
      for (let l = 0; l < lanes; l++) {
        f.get('base'); simd(SIMD_OP.load8x8S, 3, ...uleb(l * 8))
        f.get(`q${l}`); simd(SIMD_OP.dotI16x8S)
        if (l > 0) { f.get('acc'); simd(SIMD_OP.i32x4Add) }
        f.set('acc')
      }
      f.get('i').i32(2).op(OP.i32Shl)
      f.get('acc'); simd(SIMD_OP.i32x4ExtractLane, 0)
      f.get('acc'); simd(SIMD_OP.i32x4ExtractLane, 1); f.op(OP.i32Add)
      f.get('acc'); simd(SIMD_OP.i32x4ExtractLane, 2); f.op(OP.i32Add)
      f.get('acc'); simd(SIMD_OP.i32x4ExtractLane, 3); f.op(OP.i32Add)
      f.mem(OP.i32Store, 2, sumsOff)
      f.add('i', 1).br('row')
    })
  })
  return f
}
