import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { csrFromPairs, csrHas, transposeCsr } from '../../src/trainer/csr.js'
import { evaluateRanked, evaluateScores, topK } from '../../src/trainer/evaluate.js'
import { readInteractionLines } from '../../src/trainer/read-interactions.js'
import { sampleTestUsers, splitByTime, trainCount } from '../../src/trainer/split.js'

test('splitByTime puts the latest 20% of each user by timestamp in test, file order breaking ties', async () => {
  // u1 has 10 interactions written out of time order; u2 has 5 with equal timestamps.
  const rows = ['user,item,rating,timestamp']
  const times = [5, 1, 9, 3, 7, 2, 8, 4, 10, 6]
  times.forEach((t, k) => rows.push(`u1,i${k},1,${t}`))
  for (let k = 0; k < 5; k++) rows.push(`u2,j${k},1,42`)
  const log = await readInteractionLines(rows)
  const { train, test: held } = splitByTime(log)
  const items = (m: typeof train, u: number): string[] => Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]), (i) => log.itemIds[i]).sort()
  assert.deepEqual(items(held, 0), ['i2', 'i8']) // timestamps 9 and 10
  assert.equal(items(train, 0).length, 8)
  assert.deepEqual(items(held, 1), ['j4']) // last in file order
  assert.equal(trainCount(20), 16)
  assert.equal(trainCount(1), 0)
})

test('splitByTime drops test items the user already has in train (repeat interactions)', async () => {
  const log = await readInteractionLines(['u,i,r,t', 'a,x,1,1', 'a,y,1,2', 'a,z,1,3', 'a,w,1,4', 'a,x,1,5'])
  const { train, test: held } = splitByTime(log)
  assert.equal(train.indptr[1], 4)
  assert.equal(held.indptr[1], 0)
})

test('evaluateRanked computes recall over min(k, |test|) and NDCG with binary gains', () => {
  // 1 user, 6 items; test = {1, 4, 5}; ranking [1, 0, 4] with k = 2 hits item 1 only.
  const train = csrFromPairs(1, 6, Int32Array.of(0), Int32Array.of(3))
  const held = csrFromPairs(1, 6, Int32Array.of(0, 0, 0), Int32Array.of(1, 4, 5))
  const m = evaluateRanked(train, held, 2, (_u, out) => { out[0] = 1; out[1] = 0; return 2 })
  assert.equal(m.recall, 1 / 2)
  assert.equal(m.recallFull, 1 / 3)
  assert.ok(Math.abs(m.ndcg - 1 / (1 + 1 / Math.log2(3))) < 1e-12)
  assert.equal(m.users, 1)
})

test('evaluateScores never ranks train items and breaks exact ties toward the lower item', () => {
  const train = csrFromPairs(1, 5, Int32Array.of(0), Int32Array.of(0))
  const held = csrFromPairs(1, 5, Int32Array.of(0), Int32Array.of(2))
  // Item 0 (train) scores highest; items 1..4 tie: top-1 must be item 1, which is not in test.
  const m = evaluateScores(train, held, 1, (_u, s) => s.set([9, 1, 1, 1, 1]))
  assert.equal(m.recall, 0)
  const m2 = evaluateScores(train, held, 1, (_u, s) => s.set([9, 1, 2, 1, 1]))
  assert.equal(m2.recall, 1)
})

test('topK agrees with a full sort (score desc, index asc) minus excluded items', () => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 60 }),
    fc.integer({ min: 1, max: 12 }),
    fc.array(fc.nat(), { maxLength: 10 }),
    (raw, k, ex) => {
      const scores = Float32Array.from(raw)
      const exclude = Int32Array.from(new Set(ex.map((e) => e % raw.length))).sort()
      const out = new Int32Array(k)
      const outScores = new Float32Array(k)
      const n = topK(scores, k, exclude, 0, exclude.length, out, outScores)
      const excluded = new Set(exclude)
      const ref = raw.map((s, i) => ({ s, i })).filter((x) => !excluded.has(x.i)).sort((a, b) => b.s - a.s || a.i - b.i).slice(0, k).map((x) => x.i)
      assert.deepEqual(Array.from(out.subarray(0, n)), ref)
    },
  ), { seed: 7, numRuns: 300 })
})

test('csrFromPairs sums duplicates, sorts rows, and transposeCsr round-trips', () => {
  const m = csrFromPairs(3, 4, Int32Array.of(2, 0, 2, 0, 1), Int32Array.of(3, 1, 0, 1, 2))
  assert.deepEqual(Array.from(m.indptr), [0, 1, 2, 4])
  assert.deepEqual(Array.from(m.indices), [1, 2, 0, 3])
  assert.deepEqual(Array.from(m.values), [2, 1, 1, 1])
  const back = transposeCsr(transposeCsr(m))
  assert.deepEqual(back, m)
  assert.ok(csrHas(m, 2, 3) && !csrHas(m, 2, 2))
})

test('sampleTestUsers keeps exactly maxUsers users with test items, deterministically for a seed', () => {
  const rows = 50
  const u = Int32Array.from({ length: 100 }, (_, k) => k % rows)
  const i = Int32Array.from({ length: 100 }, (_, k) => k % 7)
  const held = csrFromPairs(rows, 7, u, i)
  const a = sampleTestUsers(held, 10, 1)
  const kept = (m: typeof held): number[] => Array.from({ length: rows }, (_, r) => r).filter((r) => m.indptr[r + 1] > m.indptr[r])
  assert.equal(kept(a).length, 10)
  assert.deepEqual(kept(a), kept(sampleTestUsers(held, 10, 1)))
  assert.notDeepEqual(kept(a), kept(sampleTestUsers(held, 10, 2)))
  for (const r of kept(a)) assert.deepEqual(a.indices.subarray(a.indptr[r], a.indptr[r + 1]), held.indices.subarray(held.indptr[r], held.indptr[r + 1]))
  assert.equal(sampleTestUsers(held, 50, 1), held)
})
