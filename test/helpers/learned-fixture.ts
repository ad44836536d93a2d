/** Bundle inputs for the learned id -> row mapping and solved-user layouts (docs/model-bundle.md). */
import type { BundleInput } from '../../src/model-loader/write-bundle.js'
import type { TableConfig } from '../../src/bundle-format/manifest.js'
import { testBundleInput, type TestBundleOptions } from './bundle-fixture.js'

export interface MappedOptions extends TestBundleOptions {
  /** Mapping columns of both tables. */
  columns?: 1 | 2
  /** Item table: dedicated and shared rows (default 10 and 6). */
  itemRows?: [number, number]
  /** Map the user table too (3 dedicated + userShared rows). */
  users?: number
  userMapping?: boolean
  /** Stored dtype of both mappings (default I32). */
  mappingDtype?: 'I32' | 'U16'
}

/** rows x columns: listed id i -> (i * 7) mod total and, with 2 columns, -1 for every third id, else (i * 3 + 5) mod total. */
export function mappingRows (listed: number, columns: 1 | 2, total: number): Int32Array {
  const rows = new Int32Array(listed * columns)
  for (let i = 0; i < listed; i++) {
    rows[i * columns] = (i * 7) % total
    if (columns === 2) rows[i * 2 + 1] = i % 3 === 0 ? -1 : (i * 3 + 5) % total
  }
  return rows
}

/** 40 items over an item table of [10 dedicated | 6 shared] rows mapped by `item_rows`; users mapped by `user_rows` when asked. */
export function mappedBundleInput (o: MappedOptions = {}): BundleInput {
  const columns = o.columns ?? 2
  const [k, b] = o.itemRows ?? [10, 6]
  const users = o.users ?? 6
  const userShared = o.userShared ?? 4
  const base = testBundleInput({ items: 40, dimension: 8, ...o, users, itemDedicated: k, itemShared: b, userShared })
  const item: TableConfig = { ...base.tables.item, learnedMapping: { kind: 'co-cluster', tensor: 'item_rows' } }
  const userK = 3
  const user: TableConfig = o.userMapping ? { ...base.tables.user, dedicatedRows: userK, learnedMapping: { kind: 'learned-hash', tensor: 'user_rows' } } : base.tables.user
  return {
    ...base,
    tables: { item, user },
    tensors: {
      ...base.tensors,
      itemRowMap: { rows: mappingRows(base.items.length, columns, k + b), columns, dtype: o.mappingDtype },
      ...(o.userMapping
        ? { userEmbeddings: base.tensors.userEmbeddings.slice(0, userK * base.dimension), userRowMap: { rows: mappingRows(users, columns, userK + userShared), columns, dtype: o.mappingDtype } }
        : {}),
    },
  }
}

/** The same bundle with no stored user vectors: each listed user's is the fold-in of their training items. */
export function solvedBundleInput (o: TestBundleOptions = {}): BundleInput {
  const base = testBundleInput({ seen: true, ...o, userShared: 0 })
  return {
    ...base,
    tables: { ...base.tables, user: { ...base.tables.user, dedicatedRows: 0, sharedRows: 0, vectors: 'solved' } },
    tensors: { ...base.tensors, userEmbeddings: new Float32Array(0) },
    foldIn: { alpha: 5, reg: 0.2 },
  }
}
