/**
 * Path -> items, built at load time from the bundle's item-to-path assignments: the distinct path
 * keys in ascending order, each with its run of item rows (ascending), plus one bitmap per layer of
 * the prefixes that lead to at least one item (the beam search's `allowed`).
 */
import { indexOfSorted } from '../row-filter.js'
import { widthPowers, type DrShape } from './network.js'

export interface DrPathIndex {
  /** Distinct non-empty path keys, ascending. */
  readonly keys: Int32Array
  /** items[offsets[p], offsets[p + 1]) are the rows on path keys[p]. */
  readonly offsets: Int32Array
  readonly items: Int32Array
  /** allowed[d]: bit k set when some item's path starts with the (d + 1)-node prefix of key k. */
  readonly allowed: Uint32Array[]
  /** Items on the most crowded path. */
  readonly largestPath: number
  readonly memoryBytes: number
}

/** `itemKeys`: itemCount x J path keys, each in [0, K^D). */
export function buildPathIndex (shape: DrShape, itemKeys: Int32Array, itemCount: number): DrPathIndex {
  const J = shape.pathsPerItem
  const entries = itemCount * J
  // Sort (key, row) pairs as key * itemCount + row, exact in a double (K^D <= 2^27, rows < 2^26).
  const packed = new Float64Array(entries)
  for (let row = 0; row < itemCount; row++) {
    for (let j = 0; j < J; j++) packed[row * J + j] = itemKeys[row * J + j] * itemCount + row
  }
  packed.sort()
  const keysTmp = new Int32Array(entries)
  const offsetsTmp = new Int32Array(entries + 1)
  const items = new Int32Array(entries)
  let distinct = 0
  let n = 0
  let largestPath = 0
  for (let i = 0; i < entries; i++) {
    const key = Math.floor(packed[i] / itemCount)
    const row = packed[i] - key * itemCount
    if (distinct === 0 || keysTmp[distinct - 1] !== key) {
      if (distinct > 0) largestPath = Math.max(largestPath, n - offsetsTmp[distinct - 1])
      offsetsTmp[distinct] = n
      keysTmp[distinct++] = key
    } else if (items[n - 1] === row) {
      continue // the same item twice on one path counts once
    }
    items[n++] = row
  }
  if (distinct > 0) largestPath = Math.max(largestPath, n - offsetsTmp[distinct - 1])
  offsetsTmp[distinct] = n
  const keys = keysTmp.slice(0, distinct)
  const offsets = offsetsTmp.slice(0, distinct + 1)
  const powers = widthPowers(shape)
  const allowed: Uint32Array[] = []
  for (let d = 0; d < shape.depth; d++) {
    const bits = new Uint32Array(Math.ceil(powers[d + 1] / 32))
    const div = powers[shape.depth - 1 - d]
    for (let p = 0; p < distinct; p++) {
      const prefix = Math.floor(keys[p] / div)
      bits[prefix >>> 5] |= 1 << (prefix & 31)
    }
    allowed.push(bits)
  }
  const rowsOut = items.slice(0, n)
  let memoryBytes = keys.byteLength + offsets.byteLength + rowsOut.byteLength
  for (const b of allowed) memoryBytes += b.byteLength
  return { keys, offsets, items: rowsOut, allowed, largestPath, memoryBytes }
}

/** Index of `key` in the index's keys, or -1. */
export function findPath (index: DrPathIndex, key: number): number {
  return indexOfSorted(index.keys, key)
}
