import type { HierarchicalNSW } from 'hnswlib-node'
import type { HybridTable } from '../hashing/hybrid-table.js'
import type { IdIndex, ItemMetaIndex } from './id-index.js'
import type { CodeBits, FoldInConfig, Manifest } from '../bundle-format/manifest.js'
import type { DeepRetrievalStructure } from './deep-retrieval-tensors.js'

export interface ItemMeta {
  readonly title?: string
  readonly tags?: readonly string[]
}

export interface HnswHandle {
  readonly index: HierarchicalNSW
  /** Vector width inside the index: dimension, +1 with item biases, +1 for the l2-mips reduction. */
  readonly indexDimension: number
  readonly space: 'ip' | 'l2-mips'
  /** For 'l2-mips': the largest augmented item norm M used by the reduction. */
  readonly maxNorm: number
  readonly source: 'file' | 'built'
  readonly buildMs: number
}

/**
 * A loaded, validated, immutable model. Item rows are dense 0..items.size-1 in catalog order;
 * user rows 0..users.size-1 are the users with a dedicated row (and a learned code).
 *
 * Codes are packed as in the bundle (bit j in byte j >> 3 at position j & 7, 1 = +1) and viewed as
 * little-endian 32-bit words: code c occupies words [c * codeWords, (c + 1) * codeWords).
 */
export interface Model {
  readonly manifest: Manifest
  readonly dir: string
  readonly id: string
  readonly version: string
  readonly dimension: number
  readonly codeBits: CodeBits
  readonly codeWords: number

  readonly items: IdIndex
  /** Display metadata by item row, decoded on first use. */
  readonly itemMeta: ItemMetaIndex
  readonly itemCodes: Uint32Array
  /** items.size x dimension, each item resolved through the item table. */
  readonly itemVectors: Float32Array
  readonly itemNorms: Float32Array
  readonly itemBias: Float32Array | null
  /** Item rows, most popular first (from the optional `item_popularity` tensor; catalog order otherwise). */
  readonly popularItems: Int32Array

  readonly users: IdIndex
  readonly userCodes: Uint32Array
  readonly userTable: HybridTable
  readonly itemTable: HybridTable
  /** dimension x codeBits, row-major: sign(v P) gives a code for a user known only by a vector. */
  readonly userCodeProjection: Float32Array | null

  /** Training interactions of each dedicated user (CSR over user rows -> item rows), when the bundle has them. */
  readonly userSeen: { readonly indptr: Int32Array, readonly items: Int32Array } | null
  /** Item Gram matrix V^T V (dimension x dimension), precomputed for least-squares fold-in. */
  readonly itemGram: Float64Array
  readonly foldIn: FoldInConfig

  readonly hnsw: HnswHandle | null
  /** The learned Deep Retrieval structure, when the bundle carries one (its manifest's `deepRetrieval`). */
  readonly deepRetrieval: DeepRetrievalStructure | null
  readonly stats: {
    readonly loadMs: number
    /** Where the load time went (waits included): reading the id lists, parsing them (while the tensors file is read), tensors, HNSW, remaining checksums. */
    readonly phasesMs: Readonly<Record<'read' | 'ids' | 'tensors' | 'hnsw' | 'checksums', number>>
    readonly loadedAt: string
    readonly bytesRead: number
    readonly zeroCopyTensors: number
    readonly copiedTensors: number
  }
}
