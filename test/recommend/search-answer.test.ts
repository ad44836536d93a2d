import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp } from '../app/helpers.js'
import { Listing } from '../../src/recommend/listing.js'
import { Query } from '../../src/recommend/query.js'
import { searchAnswer } from '../../src/recommend/search-answer.js'
import { EMPTY_TOP_K } from '../../src/search/top-k.js'

const BUNDLE = { items: 60, users: 6, dimension: 8, deepRetrieval: { depth: 2, width: 6, pathsPerItem: 2, embeddingDimension: 3, beam: 3, seed: 5 } }

test('a Deep Retrieval search that falls back is answered by the fallback method with a note saying why', async (t) => {
  const { model } = await createTestApp(t, { bundle: BUNDLE })
  const calls: string[] = []
  const engines = {
    hamming: () => EMPTY_TOP_K,
    mips: () => EMPTY_TOP_K,
    hybrid: () => { calls.push('hybrid'); return EMPTY_TOP_K },
    dr: (code: Uint32Array | null) => { calls.push(code === null ? 'dr without code' : 'dr'); return { ...EMPTY_TOP_K, fallback: code === null ? 'mips' as const : 'hybrid' as const, beam: 1024 } },
  }
  const listing = new Listing(model, () => undefined, 200)
  const q = (hasCode: boolean): Query => Object.assign(new Query(model), { source: 'vector' as const, hasCode, hasVector: true })
  const withCode = searchAnswer(model, engines, q(true), { k: 5, method: 'dr' }, new Set(), listing)
  assert.equal(withCode.method, 'hybrid')
  assert.match(withCode.methodNote!, /fewer than 5 eligible items even widened to 1024: served by hybrid/)
  const noCode = searchAnswer(model, engines, q(false), { k: 5, method: 'dr' }, new Set(), listing)
  assert.equal(noCode.method, 'mips')
  assert.deepEqual(calls, ['dr', 'dr without code'])
})
