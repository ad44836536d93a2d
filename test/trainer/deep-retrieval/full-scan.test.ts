import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { exactMipsTopK } from '../../../src/search/mips/brute-force.js'
import { csrFromPairs } from '../../../src/trainer/csr.js'
import { createFullScan, csrRowExclusion } from '../../../src/trainer/deep-retrieval/full-scan.js'
import { createRng } from '../../../src/trainer/rng.js'

test('the int8-filtered full scan returns exactly exactMipsTopK minus the user\'s excluded items (rows, order, ties)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (items, dimension, k, seed, coarse) => {
    const rng = createRng(seed)
    // Coarse values give exact score ties (broken by lower row).
    const v = Float32Array.from({ length: items * dimension }, () => coarse ? Math.round(rng.normal() * 2) : rng.normal())
    const catalog = { itemVectors: v, itemBias: null, dimension, itemCount: items }
    const users = 4
    const u: number[] = []
    const i: number[] = []
    for (let user = 0; user < users; user++) for (let j = 0; j < user * 7; j++) { u.push(user); i.push(Math.floor(rng.next() * items)) }
    const excl = csrFromPairs(users, items, Int32Array.from(u), Int32Array.from(i))
    const scan = createFullScan(catalog, excl)
    const set = csrRowExclusion(excl)
    for (let user = 0; user < users; user++) {
      const q = Float32Array.from({ length: dimension }, () => rng.normal())
      const out = new Int32Array(k)
      const n = scan.topK(q, k, user, out)
      set.user = user
      const expected = exactMipsTopK(catalog, q, k, set)
      assert.deepEqual([...out.subarray(0, n)], [...expected.rows])
    }
  }), { numRuns: 120, seed: 31 })
})
