import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { byRecency } from '../../src/trainer/export-bundle.js'
import { readInteractions } from '../../src/trainer/read-interactions.js'
import { fullMatrix } from '../../src/trainer/split.js'

test('byRecency orders each user\'s items oldest first by their latest interaction, file order on equal times', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hashrec-recency-'))
  try {
    const input = join(dir, 'log.csv')
    // u1: c at 5, a at 1 then again at 9, b at 5 (after c in the file); u2 has no timestamps ties to break.
    await writeFile(input, 'user,item,rating,timestamp\nu1,c,1,5\nu1,a,1,1\nu2,b,1,3\nu1,b,1,5\nu1,a,1,9\nu2,a,1,2\n')
    const data = await readInteractions(input)
    const m = fullMatrix(data)
    const order = byRecency(data, m)
    const itemsOf = (user: string): string[] => {
      const u = data.userIds.indexOf(user)
      return Array.from(order.subarray(m.indptr[u], m.indptr[u + 1]), (p) => data.itemIds[m.indices[p]])
    }
    assert.deepEqual(itemsOf('u1'), ['c', 'b', 'a'])
    assert.deepEqual(itemsOf('u2'), ['a', 'b'])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
