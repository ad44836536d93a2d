/**
 * MurmurHash3, x86 32-bit variant (Austin Appleby's reference `MurmurHash3_x86_32`).
 *
 * This is the function behind scikit-learn's `murmurhash3_32` / FeatureHasher and the `mmh3`
 * package, so an external trainer reproduces our id -> row mapping with one library call. We
 * return the *unsigned* 32-bit value (sklearn: `positive=True`; mmh3: `signed=False`).
 */

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/** Hash `len` bytes of `data` starting at `start`. No allocation: safe on hot paths. */
export function murmur3x86_32 (data: Uint8Array, seed: number, start = 0, len = data.length - start): number {
  let h = seed >>> 0
  const blocksEnd = start + (len & ~3)
  for (let i = start; i < blocksEnd; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const tail = len & 3
  if (tail > 0) {
    let k1 = data[blocksEnd]
    if (tail > 1) k1 |= data[blocksEnd + 1] << 8
    if (tail > 2) k1 |= data[blocksEnd + 2] << 16
    k1 = Math.imul(k1, C1)
    k1 = (k1 << 15) | (k1 >>> 17)
    k1 = Math.imul(k1, C2)
    h ^= k1
  }
  h ^= len
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const encoder = new TextEncoder()
// Ids are capped well below this (see MAX_ID_BYTES); longer strings fall back to an allocation.
let scratch = new Uint8Array(1024)

/** MurmurHash3 x86_32 of a string's UTF-8 bytes, reusing one scratch buffer. */
export function murmur3String (id: string, seed: number): number {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (id.length * 3 > scratch.length) scratch = new Uint8Array(id.length * 3)
  const { written } = encoder.encodeInto(id, scratch)
  return murmur3x86_32(scratch, seed, 0, written)
}
