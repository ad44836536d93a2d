/**
 * Exact Hamming top-K by a full scan: the oracle for the multi-index tables and their fallback when
 * they would lose (small catalogs, queries far from every item). The item codes are copied once into
 * WebAssembly memory; a query costs one pass of popcounts plus a counting sort of the few rows
 * that were ever within the running radius.
 */
import { EMPTY_TOP_K, rankByDistance } from '../top-k.js'
import type { RowFilter } from '../row-filter.js'
import type { ExcludeSet, TopK } from '../types.js'
import { createExclusionBitmap } from './exclusion-bitmap.js'
import { createWasmMemory, HISTOGRAMS_BYTES, instantiateHammingScan } from './popcount-wasm.js'

export interface LinearHammingScan {
  /** Exact top-k by (distance, row) among the rows `filter` passes (all without one) that `exclude` does not hold. */
  search (query: Uint32Array, k: number, exclude?: ExcludeSet, filter?: RowFilter): TopK
  /** Bytes of WebAssembly memory held (codes copy plus scratch). */
  readonly memoryBytes: number
  /** The pass the last search ran ('radius' or 'two-pass'). */
  readonly lastPass: 'radius' | 'two-pass'
}

const RADIUS_RETRY_EVERY = 32

export interface LinearScanOptions {
  /**
   * 'radius': one pass keeping a shrinking radius (fast when it shrinks early, as on clustered
   * codes); 'two-pass': every distance and its histogram first, then the rows within the k-th
   * distance (no data-dependent branch; fast when most rows sit near the radius, as learned codes
   * do); 'auto' (default): the radius pass until it writes out more than 1 row in 16 for most
   * queries, then two passes. models/default, top-200 with seen items excluded: radius 29.3 µs,
   * two-pass 24.4 µs; 1M clustered synthetic codes: radius 641 µs, two-pass 1,461 µs (bench:kernels).
   */
  readonly mode?: 'radius' | 'two-pass' | 'auto'
}

export function createLinearHammingScan (itemCodes: Uint32Array, codeWords: number, itemCount: number, options: LinearScanOptions = {}): LinearHammingScan {
  const codeBits = codeWords * 32
  if (itemCount === 0) return { search: () => EMPTY_TOP_K, memoryBytes: 0, lastPass: 'radius' }
  if (itemCodes.length < itemCount * codeWords) throw new RangeError(`itemCodes holds ${itemCodes.length} words, fewer than ${itemCount} x ${codeWords}`)
  const codesBytes = itemCount * codeWords * 4
  const qOff = align(codesBytes, 16)
  const histOff = qOff + 16
  const tauOff = histOff + (codeBits + 2) * 4
  const rowsOff = align(tauOff + 4, 16)
  const distOff = rowsOff + itemCount * 4
  const exclOff = align(distOff + itemCount, 16)
  const exclBytes = (itemCount + 7) >> 3
  const histogramsOff = align(exclOff + exclBytes, 16)
  const total = histogramsOff + HISTOGRAMS_BYTES
  const memory = createWasmMemory(total)
  const buffer = memory.buffer
  new Uint32Array(buffer, 0, itemCount * codeWords).set(itemCodes.subarray(0, itemCount * codeWords))
  const queryView = new Uint32Array(buffer, qOff, codeWords)
  const hist = new Int32Array(buffer, histOff, codeBits + 2)
  const tauView = new Int32Array(buffer, tauOff, 1)
  const rowsView = new Int32Array(buffer, rowsOff, itemCount)
  const distView = new Uint8Array(buffer, distOff, itemCount)
  // Zero except during a search that excludes rows it can list.
  const excluded = createExclusionBitmap(new Uint8Array(buffer, exclOff, exclBytes), itemCount)
  const scratchHistogram = new Int32Array(codeBits + 2)
  const order = new Int32Array(itemCount)
  const histograms = new Int32Array(buffer, histogramsOff, HISTOGRAMS_BYTES / 4)
  const { scan, distances, collect } = instantiateHammingScan(codeWords, memory)
  const mode = options.mode ?? 'auto'
  // Share of the catalog the radius pass wrote out, averaged over its recent queries ('auto').
  let writtenShare = 0
  let sinceRadius = 0
  let lastPass: 'radius' | 'two-pass' = 'radius'

  /** Rows within the need-th smallest distance (excluded rows listed in the bitmap skipped): stored count and tau. */
  const twoPass = (need: number): [number, number] => {
    histograms.fill(0)
    distances(0, itemCount, qOff, distOff, exclOff, histogramsOff)
    let tau = codeBits
    for (let d = 0, cum = 0; d <= codeBits; d++) {
      cum += histograms[d] + histograms[256 + d] + histograms[512 + d] + histograms[768 + d]
      if (cum >= need) { tau = d; break }
    }
    return [collect(itemCount, tau, distOff, rowsOff), tau]
  }

  return {
    memoryBytes: memory.buffer.byteLength + order.byteLength,
    get lastPass () { return lastPass },
    search (query: Uint32Array, k: number, exclude?: ExcludeSet, filter?: RowFilter): TopK {
      if (k <= 0) return EMPTY_TOP_K
      // Rows the filter does not pass and excluded rows the scan can see are skipped inside it; any
      // others are over-fetched for, so the radius still holds at least k rows that are not excluded.
      excluded.base(filter)
      const listed = excluded.mark(exclude)
      const need = Math.min(itemCount, k + (exclude === undefined || listed ? 0 : exclude.size))
      for (let w = 0; w < codeWords; w++) queryView[w] = query[w]
      let stored: number
      let tau: number
      // 'auto' in two-pass mode still runs the radius pass one query in RADIUS_RETRY_EVERY, to notice
      // when traffic moves to queries it serves better.
      if (mode === 'two-pass' || (mode === 'auto' && writtenShare > 1 / 16 && ++sinceRadius < RADIUS_RETRY_EVERY)) {
        [stored, tau] = twoPass(need)
        lastPass = 'two-pass'
      } else {
        sinceRadius = 0
        lastPass = 'radius'
        hist.fill(0)
        stored = scan(0, itemCount, qOff, histOff, rowsOff, distOff, need, tauOff, exclOff)
        tau = tauView[0]
        writtenShare = 0.9 * writtenShare + 0.1 * (stored / itemCount)
      }
      if (listed) excluded.clear(exclude!)
      return rankByDistance(rowsView, distView, stored, tau, k, listed ? undefined : exclude, codeBits, scratchHistogram, order, itemCount)
    },
  }
}

function align (n: number, to: number): number {
  return Math.ceil(n / to) * to
}
