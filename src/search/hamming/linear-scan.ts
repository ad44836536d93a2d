/**
 * Exact Hamming top-K by a full scan: the oracle for the multi-index tables and their fallback when
 * they would lose (small catalogs, queries far from every item). The item codes are copied once into
 * WebAssembly memory; a query costs one pass of popcounts plus a counting sort of the few rows
 * that were ever within the running radius.
 */
import { EMPTY_TOP_K, rankByDistance } from '../top-k.js'
import type { ExcludeSet, TopK } from '../types.js'
import { createWasmMemory, instantiateHammingScan, type WasmScan } from './popcount-wasm.js'

export interface LinearHammingScan {
  search (query: Uint32Array, k: number, exclude?: ExcludeSet): TopK
  /** Bytes of WebAssembly memory held (codes copy plus scratch). */
  readonly memoryBytes: number
}

export function createLinearHammingScan (itemCodes: Uint32Array, codeWords: number, itemCount: number): LinearHammingScan {
  const codeBits = codeWords * 32
  if (itemCount === 0) return { search: () => EMPTY_TOP_K, memoryBytes: 0 }
  if (itemCodes.length < itemCount * codeWords) throw new RangeError(`itemCodes holds ${itemCodes.length} words, fewer than ${itemCount} x ${codeWords}`)
  const codesBytes = itemCount * codeWords * 4
  const qOff = align(codesBytes, 16)
  const histOff = qOff + 16
  const tauOff = histOff + (codeBits + 2) * 4
  const rowsOff = align(tauOff + 4, 16)
  const distOff = rowsOff + itemCount * 4
  const total = distOff + itemCount
  const memory = createWasmMemory(total)
  const buffer = memory.buffer
  new Uint32Array(buffer, 0, itemCount * codeWords).set(itemCodes.subarray(0, itemCount * codeWords))
  const queryView = new Uint32Array(buffer, qOff, codeWords)
  const hist = new Int32Array(buffer, histOff, codeBits + 2)
  const tauView = new Int32Array(buffer, tauOff, 1)
  const rowsView = new Int32Array(buffer, rowsOff, itemCount)
  const distView = new Uint8Array(buffer, distOff, itemCount)
  const scratchHistogram = new Int32Array(codeBits + 2)
  const order = new Int32Array(itemCount)
  const scan: WasmScan = instantiateHammingScan(codeWords, memory)

  return {
    memoryBytes: memory.buffer.byteLength + order.byteLength,
    search (query: Uint32Array, k: number, exclude?: ExcludeSet): TopK {
      if (k <= 0) return EMPTY_TOP_K
      // Over-fetch by the exclusion count: the radius then holds at least k rows that are not excluded.
      const need = Math.min(itemCount, k + (exclude?.size ?? 0))
      for (let w = 0; w < codeWords; w++) queryView[w] = query[w]
      hist.fill(0)
      const stored = scan(0, itemCount, qOff, histOff, rowsOff, distOff, need, tauOff)
      return rankByDistance(rowsView, distView, stored, tauView[0], k, exclude, codeBits, scratchHistogram, order, itemCount)
    },
  }
}

function align (n: number, to: number): number {
  return Math.ceil(n / to) * to
}
