import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { HybridTable, sharedRows } from '../../src/hashing/hybrid-table.js'
import { murmur3String } from '../../src/hashing/murmur3.js'
import type { TableConfig } from '../../src/bundle-format/manifest.js'

function makeTable (aggregation: 'sum' | 'concat', k: number, b: number, d = 4): HybridTable {
  const width = aggregation === 'concat' ? d / 2 : d
  const config: TableConfig = { dedicatedRows: k, sharedRows: b, aggregation, hash: { function: 'murmur3_x86_32', seeds: [1, 2] } }
  const dedicated = Float32Array.from({ length: k * d }, (_, i) => 1000 + i)
  const shared = Float32Array.from({ length: b * width }, (_, i) => i)
  const dict = new Map(Array.from({ length: k }, (_, i) => [`top${i}`, i]))
  return new HybridTable({ config, dimension: d, dedicated, shared, dedicatedRow: (id) => dict.get(id) })
}

test('resolveInto returns the dedicated row for a frequent id', () => {
  const table = makeTable('sum', 3, 5)
  const out = new Float32Array(4)
  assert.equal(table.resolveInto('top1', out), 'dedicated')
  assert.deepEqual([...out], [1004, 1005, 1006, 1007])
})

test('resolveInto sums the two shared rows MurmurHash3 picks for a tail id (sum aggregation)', () => {
  const table = makeTable('sum', 3, 5)
  const out = new Float32Array(4)
  const id = 'never-seen-user-42'
  const r1 = murmur3String(id, 1) % 5
  const r2 = murmur3String(id, 2) % 5
  assert.equal(table.resolveInto(id, out), 'hashed')
  assert.deepEqual([...out], [0, 1, 2, 3].map((j) => r1 * 4 + j + r2 * 4 + j))
})

test('resolveInto concatenates the two half-width shared rows (concat aggregation)', () => {
  const table = makeTable('concat', 2, 7, 6)
  const out = new Float32Array(6)
  const id = 'tail-item'
  const r1 = murmur3String(id, 1) % 7
  const r2 = murmur3String(id, 2) % 7
  assert.equal(table.resolveInto(id, out), 'hashed')
  assert.deepEqual([...out], [r1 * 3, r1 * 3 + 1, r1 * 3 + 2, r2 * 3, r2 * 3 + 1, r2 * 3 + 2])
})

test('resolveInto zeroes the output and answers none when an unknown id meets a table without shared rows', () => {
  const table = makeTable('sum', 3, 0)
  const out = new Float32Array(4).fill(9)
  assert.equal(table.resolveInto('stranger', out), 'none')
  assert.deepEqual([...out], [0, 0, 0, 0])
})

test('locate gives the conceptual rows K + h mod B, the rows the trainer updates', () => {
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (id, b) => {
    const table = makeTable('sum', 3, b)
    const rows = new Int32Array(2)
    fc.pre(!id.startsWith('top'))
    assert.equal(table.locate(id, rows), 2)
    const expected = new Int32Array(2)
    sharedRows(id, table.config, expected)
    assert.deepEqual([...rows], [3 + expected[0], 3 + expected[1]])
    assert.ok(rows[0] >= 3 && rows[0] < 3 + b && rows[1] >= 3 && rows[1] < 3 + b)
  }))
})

test('resolveInto writes at an offset without touching the rest of the buffer', () => {
  const table = makeTable('sum', 3, 5)
  const out = new Float32Array(12).fill(-1)
  table.resolveInto('top0', out, 4)
  assert.deepEqual([...out], [-1, -1, -1, -1, 1000, 1001, 1002, 1003, -1, -1, -1, -1])
})
