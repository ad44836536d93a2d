import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { assignmentLayout, identityLayout, InvalidAssignmentError, mappingTensor } from '../../../src/trainer/mappings/assignment.js'

const assignmentArb = fc.record({ k: fc.integer({ min: 0, max: 8 }), b: fc.integer({ min: 1, max: 12 }), tail: fc.integer({ min: 0, max: 40 }) }).chain(({ k, b, tail }) =>
  fc.tuple(fc.constant(k), fc.constant(b), fc.array(fc.tuple(fc.integer({ min: k, max: k + b - 1 }), fc.integer({ min: k - 1, max: k + b - 1 })), { minLength: tail, maxLength: tail })))

test('an assignment layout lists each id under exactly its rows, with multiplicity 2 when both rows coincide', () => {
  fc.assert(fc.property(assignmentArb, ([k, b, tailRows]) => {
    // Dedicated ids first (row r for id r), then tail ids with one or two shared rows (k - 1 stands for "none").
    const n = k + tailRows.length
    const rows = new Int32Array(2 * n).fill(-1)
    for (let r = 0; r < k; r++) rows[2 * r] = r
    tailRows.forEach(([a, c], t) => { rows[2 * (k + t)] = a; rows[2 * (k + t) + 1] = c < k ? -1 : c })
    const layout = assignmentLayout({ dedicatedRows: k, sharedRows: b, rows }, [1, 2], { kind: 'learned-hash', tensor: 'item_rows' })
    assert.equal(layout.rows, k + b)
    assert.deepEqual(layout.config.learnedMapping, { kind: 'learned-hash', tensor: 'item_rows' })
    assert.deepEqual(Array.from(layout.dedicatedIds), Array.from({ length: k }, (_, r) => r))
    const seen = new Map<string, number>()
    for (let r = 0; r < layout.rows; r++) {
      for (let p = layout.rowPtr[r]; p < layout.rowPtr[r + 1]; p++) seen.set(`${layout.rowIds[p]}:${r}`, layout.rowMult[p])
    }
    const expected = new Map<string, number>()
    for (let i = 0; i < n; i++) {
      assert.equal(layout.idRowCount[i], rows[2 * i + 1] === -1 ? 1 : 2)
      for (let j = 0; j < layout.idRowCount[i]; j++) {
        const key = `${i}:${layout.idRows[2 * i + j]}`
        expected.set(key, (expected.get(key) ?? 0) + 1)
      }
    }
    assert.deepEqual(seen, expected)
  }), { seed: 11, numRuns: 200 })
})

test('an assignment whose dedicated row is shared, out of range or second-without-first is refused', () => {
  const seeds: [number, number] = [1, 2]
  assert.throws(() => assignmentLayout({ dedicatedRows: 1, sharedRows: 1, rows: Int32Array.from([0, -1, 0, -1]) }, seeds), InvalidAssignmentError)
  assert.throws(() => assignmentLayout({ dedicatedRows: 1, sharedRows: 1, rows: Int32Array.from([0, 1, 1, -1]) }, seeds), InvalidAssignmentError)
  assert.throws(() => assignmentLayout({ dedicatedRows: 0, sharedRows: 2, rows: Int32Array.from([2, -1]) }, seeds), InvalidAssignmentError)
  assert.throws(() => assignmentLayout({ dedicatedRows: 0, sharedRows: 2, rows: Int32Array.from([-1, 1]) }, seeds), InvalidAssignmentError)
})

test('the mapping tensor has one column when no id uses two rows and two otherwise, -1 where a row is missing', () => {
  const single = mappingTensor(assignmentLayout({ dedicatedRows: 1, sharedRows: 2, rows: Int32Array.from([0, -1, 2, -1, 1, -1]) }, [1, 2]))
  assert.deepEqual(single.shape, [3, 1])
  assert.deepEqual(Array.from(single.data), [0, 2, 1])
  const pairs = mappingTensor(assignmentLayout({ dedicatedRows: 1, sharedRows: 2, rows: Int32Array.from([0, -1, 2, 1, 1, -1]) }, [1, 2]))
  assert.deepEqual(pairs.shape, [3, 2])
  assert.deepEqual(Array.from(pairs.data), [0, -1, 2, 1, 1, -1])
})

test('the identity layout gives id i row i and no learned mapping', () => {
  const layout = identityLayout(5)
  assert.deepEqual(Array.from(layout.dedicatedIds), [0, 1, 2, 3, 4])
  assert.equal(layout.config.learnedMapping, undefined)
  assert.deepEqual(Array.from(layout.rowIds), [0, 1, 2, 3, 4])
})
