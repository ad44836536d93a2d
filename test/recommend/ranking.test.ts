import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { mmrOrder } from '../../src/recommend/diversity.js'
import { closestBasisRows } from '../../src/recommend/explain.js'
import { itemCosine, meanPairwiseSimilarity, type ItemVectors } from '../../src/recommend/item-similarity.js'
import { MAX_PAGED_DEPTH, rankPage, searchDepth } from '../../src/recommend/ranking.js'

function itemsOf (vectors: number[][]): ItemVectors {
  const d = vectors[0]?.length ?? 1
  const itemVectors = Float32Array.from(vectors.flat())
  const itemNorms = Float32Array.from(vectors.map((v) => Math.hypot(...v)))
  return { itemVectors, itemNorms, dimension: d }
}

const cos = (a: number[], b: number[]): number => {
  const na = Math.hypot(...a)
  const nb = Math.hypot(...b)
  return na === 0 || nb === 0 ? 0 : a.reduce((s, x, i) => s + x * b[i], 0) / (na * nb)
}

const vectorsArb = fc.array(fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 25 })

test('itemCosine and meanPairwiseSimilarity are the textbook cosine and its mean over pairs', () => {
  fc.assert(fc.property(vectorsArb, (vectors) => {
    const items = itemsOf(vectors)
    for (let a = 0; a < vectors.length; a++) for (let b = 0; b < vectors.length; b++) assert.ok(Math.abs(itemCosine(items, a, b) - cos(vectors[a], vectors[b])) < 1e-5)
    const rows = vectors.map((_, i) => i)
    let sum = 0
    let pairs = 0
    for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) { sum += cos(vectors[i], vectors[j]); pairs++ }
    assert.ok(Math.abs(meanPairwiseSimilarity(items, rows) - (pairs === 0 ? 0 : sum / pairs)) < 1e-5)
  }), { numRuns: 200, seed: 1 })
})

test('mmrOrder: lambda 0 keeps the pool order; otherwise each pick maximizes the MMR value recomputed from scratch, ties to the better-ranked item', () => {
  fc.assert(fc.property(vectorsArb, fc.constantFrom(0, 0.3, 0.7, 1), fc.integer({ min: 1, max: 30 }), (vectors, lambda, take) => {
    const items = itemsOf(vectors)
    const rows = Int32Array.from(vectors.map((_, i) => i))
    const scores = vectors.map((_, i) => vectors.length - i + (i % 3) * 0.5)
    const order = [...mmrOrder(items, rows, scores, take, lambda)]
    assert.equal(order.length, Math.min(take, vectors.length))
    if (lambda === 0) { assert.deepEqual(order, order.map((_, i) => i)); return }
    const lo = Math.min(...scores)
    const hi = Math.max(...scores)
    const picked: number[] = []
    for (const got of order) {
      let best = -1
      let bestValue = -Infinity
      for (let i = 0; i < vectors.length; i++) {
        if (picked.includes(i)) continue
        const rel = hi > lo ? (scores[i] - lo) / (hi - lo) : 1
        const sim = picked.length === 0 ? 0 : Math.max(...picked.map((p) => cos(vectors[i], vectors[p])))
        const value = (1 - lambda) * rel - lambda * sim
        if (value > bestValue + 1e-9) { bestValue = value; best = i }
      }
      const rel = hi > lo ? (scores[got] - lo) / (hi - lo) : 1
      const sim = picked.length === 0 ? 0 : Math.max(...picked.map((p) => cos(vectors[got], vectors[p])))
      assert.ok(Math.abs((1 - lambda) * rel - lambda * sim - bestValue) < 1e-5, `pick ${got} is as good as ${best}`)
      picked.push(got)
    }
    assert.equal(order[0], 0, 'the first pick is the most relevant')
  }), { numRuns: 300, seed: 2 })
})

test('mmrOrder with diversity spreads an answer: lower mean pairwise similarity than the relevance order on clustered items', () => {
  // Two tight clusters; relevance favours the first, so the plain top 4 all come from it.
  const vectors = [[1, 0.01, 0], [1, 0.02, 0], [1, 0.03, 0], [1, 0.04, 0], [0, 1, 0.01], [0, 1, 0.02]]
  const items = itemsOf(vectors)
  const rows = Int32Array.from([0, 1, 2, 3, 4, 5])
  const scores = [6, 5, 4, 3, 2, 1]
  const plain = [...mmrOrder(items, rows, scores, 4, 0)]
  const diverse = [...mmrOrder(items, rows, scores, 4, 0.7)]
  assert.deepEqual(plain, [0, 1, 2, 3])
  assert.ok(diverse.includes(4), JSON.stringify(diverse))
  assert.ok(meanPairwiseSimilarity(items, diverse) < meanPairwiseSimilarity(items, plain))
})

test('closestBasisRows picks, for each answer item, the basis item of highest cosine (first on ties), -1 without a basis', () => {
  fc.assert(fc.property(vectorsArb, fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (vectors, answerIdx, basisIdx) => {
    const items = itemsOf(vectors)
    const answer = answerIdx.map((i) => i % vectors.length)
    const basis = basisIdx.map((i) => i % vectors.length)
    const got = [...closestBasisRows(items, answer, basis, basis.length)]
    answer.forEach((a, i) => {
      if (basis.length === 0) { assert.equal(got[i], -1); return }
      const best = Math.max(...basis.map((b) => cos(vectors[a], vectors[b])))
      assert.ok(Math.abs(cos(vectors[a], vectors[got[i]]) - best) < 1e-5)
    })
  }), { numRuns: 200, seed: 3 })
})

test('rankPage: boosts re-sort by boosted score (ties lower row) and report it; pages at offsets 0, k, 2k... of one pool never repeat and make up its ranking', () => {
  fc.assert(fc.property(vectorsArb, fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 25, maxLength: 25 }), fc.constantFrom(0, 0.5), fc.integer({ min: 1, max: 6 }), (vectors, boosts, diversity, k) => {
    const items = itemsOf(vectors)
    const n = vectors.length
    const top = { rows: Int32Array.from(vectors.map((_, i) => i)), scores: Float32Array.from(vectors.map((_, i) => n - i)), candidatesExamined: n }
    const boostOf = (row: number): number => boosts[row]
    const whole = rankPage(items, top, { k: n, offset: 0, diversity }, boostOf)
    if (diversity === 0) {
      const want = [...top.rows].map((r) => [n - r + boosts[r], r]).sort((a, b) => b[0] - a[0] || a[1] - b[1])
      assert.deepEqual([...whole.rows], want.map((x) => x[1]))
      assert.deepEqual([...whole.scores], want.map((x) => x[0]))
    }
    const seen: number[] = []
    for (let offset = 0; offset < n; offset += k) seen.push(...rankPage(items, top, { k, offset, diversity }, boostOf).rows)
    assert.deepEqual(seen, [...whole.rows])
  }), { numRuns: 200, seed: 4 })
})

test('searchDepth: the page depth alone; a boosted or diverse answer searches a pool, a fixed one when paged', () => {
  assert.equal(searchDepth({ k: 10 }, false), 10)
  assert.equal(searchDepth({ k: 10, offset: 30 }, false), 40)
  assert.equal(searchDepth({ k: 10 }, true), 50)
  assert.equal(searchDepth({ k: 40, diversity: 0.5 }, false), 120)
  assert.equal(searchDepth({ k: 10, offset: 0, diversity: 0.5 }, false), MAX_PAGED_DEPTH)
  assert.equal(searchDepth({ k: 10, offset: 150 }, true), MAX_PAGED_DEPTH)
})
