import assert from 'node:assert/strict'
import { test } from 'node:test'
import { balancedHierarchicalPaths } from '../../../src/trainer/deep-retrieval/balanced-kmeans.js'
import { createRng } from '../../../src/trainer/rng.js'

function gaussian (n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed)
  return Float32Array.from({ length: n * dim }, () => rng.normal())
}

test('balanced hierarchical k-means gives every item J distinct paths in range, siblings at the last layer, balanced at every level', () => {
  for (const [n, K, D, J] of [[500, 4, 3, 2], [37, 3, 2, 3], [1000, 10, 2, 1], [5, 4, 3, 2]]) {
    const dim = 6
    const keys = balancedHierarchicalPaths(gaussian(n, dim, n), n, dim, { depth: D, width: K, pathsPerItem: J, seed: 1 })
    assert.equal(keys.length, n * J)
    for (let i = 0; i < n; i++) {
      const mine = [...keys.subarray(i * J, (i + 1) * J)]
      assert.equal(new Set(mine).size, J)
      for (const key of mine) {
        assert.ok(key >= 0 && key < K ** D)
        assert.equal(Math.floor(key / K), Math.floor(mine[0] / K), 'the extra paths differ only in the last node')
      }
    }
    // At each depth, an item's first-path prefix groups hold at most ceil(parent / K) items.
    for (let d = 1; d <= D; d++) {
      const count = new Map<number, number>()
      for (let i = 0; i < n; i++) { const p = Math.floor(keys[i * J] / K ** (D - d)); count.set(p, (count.get(p) ?? 0) + 1) }
      const parentCount = new Map<number, number>()
      for (let i = 0; i < n; i++) { const p = Math.floor(keys[i * J] / K ** (D - d + 1)); parentCount.set(p, (parentCount.get(p) ?? 0) + 1) }
      for (const [p, c] of count) assert.ok(c <= Math.ceil(parentCount.get(Math.floor(p / K))! / K), `depth ${d} prefix ${p}: ${c} items`)
    }
  }
})

test('balanced k-means puts well separated equal clusters on distinct nodes, and is a pure function of the seed', () => {
  const rng = createRng(3)
  const centres = [[10, 0], [-10, 0], [0, 10], [0, -10]]
  const n = 400
  const v = new Float32Array(n * 2)
  for (let i = 0; i < n; i++) { v[2 * i] = centres[i % 4][0] + rng.normal(); v[2 * i + 1] = centres[i % 4][1] + rng.normal() }
  const keys = balancedHierarchicalPaths(v, n, 2, { depth: 1, width: 4, pathsPerItem: 1, seed: 5 })
  for (let c = 0; c < 4; c++) {
    const nodes = new Set<number>()
    for (let i = c; i < n; i += 4) nodes.add(keys[i])
    assert.equal(nodes.size, 1, `cluster ${c} split over ${[...nodes]}`)
  }
  assert.equal(new Set(keys).size, 4)
  assert.deepEqual(balancedHierarchicalPaths(v, n, 2, { depth: 2, width: 3, pathsPerItem: 2, seed: 5 }), balancedHierarchicalPaths(v, n, 2, { depth: 2, width: 3, pathsPerItem: 2, seed: 5 }))
})
