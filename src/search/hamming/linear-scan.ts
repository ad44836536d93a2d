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
  const exclOff = align(distOff + itemCount, 16)
  const exclBytes = (itemCount + 7) >> 3
  const total = exclOff + exclBytes
  const memory = createWasmMemory(total)
  const buffer = memory.buffer
  new Uint32Array(buffer, 0, itemCount * codeWords).set(itemCodes.subarray(0, itemCount * codeWords))
  const queryView = new Uint32Array(buffer, qOff, codeWords)
  const hist = new Int32Array(buffer, histOff, codeBits + 2)
  const tauView = new Int32Array(buffer, tauOff, 1)
  const rowsView = new Int32Array(buffer, rowsOff, itemCount)
  const distView = new Uint8Array(buffer, distOff, itemCount)
  // Zero except during a search that excludes rows it can list.
  const exclView = new Uint8Array(buffer, exclOff, exclBytes)
  const mark = (row: number): void => { if (row >= 0 && row < itemCount) exclView[row >> 3] |= 1 << (row & 7) }
  const unmark = (row: number): void => { if (row >= 0 && row < itemCount) exclView[row >> 3] = 0 }
  const scratchHistogram = new Int32Array(codeBits + 2)
  const order = new Int32Array(itemCount)
  const scan: WasmScan = instantiateHammingScan(codeWords, memory)

  return {
    memoryBytes: memory.buffer.byteLength + order.byteLength,
    search (query: Uint32Array, k: number, exclude?: ExcludeSet): TopK {
      if (k <= 0) return EMPTY_TOP_K
      // Excluded rows the scan can see are skipped inside it; any others are over-fetched for, so the
      // radius still holds at least k rows that are not excluded.
      const listed = exclude !== undefined && exclude.size > 0 && exclude.forEach !== undefined
      if (listed) exclude.forEach!(mark)
      const need = Math.min(itemCount, k + (exclude === undefined || listed ? 0 : exclude.size))
      for (let w = 0; w < codeWords; w++) queryView[w] = query[w]
      hist.fill(0)
      const stored = scan(0, itemCount, qOff, histOff, rowsOff, distOff, need, tauOff, exclOff)
      // A few rows are cheaper to clear one by one than the whole bitmap (128 KiB at 1M items).
      if (listed) { if (exclude.size * 64 < exclBytes) exclude.forEach!(unmark); else exclView.fill(0) }
      return rankByDistance(rowsView, distView, stored, tauView[0], k, listed ? undefined : exclude, codeBits, scratchHistogram, order, itemCount)
    },
  }
}

function align (n: number, to: number): number {
  return Math.ceil(n / to) * to
}
