import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runMStep, type MStepInput } from '../../../src/trainer/deep-retrieval/m-step.js'
import { randomStructure } from '../../helpers/deep-retrieval-fixture.js'

/** Items x users CSR from lists. */
function byItem (lists: number[][]): { indptr: Int32Array, users: Int32Array } {
  const indptr = new Int32Array(lists.length + 1)
  lists.forEach((l, i) => { indptr[i + 1] = indptr[i] + l.length })
  return { indptr, users: Int32Array.from(lists.flat()) }
}

function input (items: number[][], itemKeys: Int32Array, J: number, penalty: number, beam: number): MStepInput {
  const s = randomStructure({ items: items.length, dimension: 2, depth: 2, width: 4, pathsPerItem: J })
  const { indptr, users } = byItem(items)
  return { net: s.network, tables: [], userVectors: new Float32Array(0), itemIndptr: indptr, itemUsers: users, itemKeys, beam, candidatesPerItem: 8, penalty, passes: 2, seed: 1 }
}

test('without a penalty each item moves to the J paths its users score highest; an item without users keeps its paths', () => {
  // Two users: user 0's beam is paths 5 (0.6), 9 (0.3), 2 (0.1); user 1's is 9 (0.7), 5 (0.2), 14 (0.1).
  const beams = { keys: Int32Array.from([5, 9, 2, 9, 5, 14]), probs: Float32Array.from([0.6, 0.3, 0.1, 0.7, 0.2, 0.1]) }
  const itemKeys = Int32Array.from([0, 1, 0, 1, 3, 4])
  const stats = runMStep(input([[0], [0, 1], []], itemKeys, 2, 0, 3), beams)
  assert.deepEqual([...itemKeys.subarray(0, 2)].sort((a, b) => a - b), [5, 9])
  assert.deepEqual([...itemKeys.subarray(2, 4)].sort((a, b) => a - b), [5, 9])
  assert.deepEqual([...itemKeys.subarray(4, 6)], [3, 4])
  assert.equal(stats.moved, 4)
})

test('the path-size penalty spreads items that all prefer one path', () => {
  const items = 12
  // Every item's single user puts 0.5 on path 0 and 0.1 on each of paths 1..5.
  const beams = { keys: Int32Array.from([0, 1, 2, 3, 4, 5]), probs: Float32Array.from([0.5, 0.1, 0.1, 0.1, 0.1, 0.1]) }
  const lists = Array.from({ length: items }, () => [0])
  const free = Int32Array.from({ length: items }, () => 15)
  runMStep(input(lists, free, 1, 0, 6), beams)
  assert.deepEqual([...free], new Array(items).fill(0), 'no penalty: everything on the best path')
  const spread = Int32Array.from({ length: items }, () => 15)
  const stats = runMStep(input(lists, spread, 1, 0.01, 6), beams)
  assert.ok(stats.largestPath < items / 2, `largest path ${stats.largestPath}`)
  assert.ok(stats.usedPaths >= 3)
})
