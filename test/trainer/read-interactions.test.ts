import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readInteractionLines, splitFields, TrainerInputError } from '../../src/trainer/read-interactions.js'

const lines = (s: string): string[] => s.split('\n')

test('readInteractionLines with a MovieLens-style header maps columns by name and interns ids densely', async () => {
  const log = await readInteractionLines(lines('userId,movieId,rating,timestamp\n1,10,4.0,100\n2,10,3.5,90\n1,20,5,95\n'))
  assert.deepEqual(log.header, ['userId', 'movieId', 'rating', 'timestamp'])
  assert.deepEqual(log.userIds, ['1', '2'])
  assert.deepEqual(log.itemIds, ['10', '20'])
  assert.deepEqual(Array.from(log.users), [0, 1, 0])
  assert.deepEqual(Array.from(log.items), [0, 0, 1])
  assert.deepEqual(Array.from(log.ratings!), [4, 3.5, 5])
  assert.deepEqual(Array.from(log.timestamps!), [100, 90, 95])
  assert.equal(log.count, 3)
})

test('readInteractionLines without a header reads TSV positionally, and two columns mean no rating or time', async () => {
  const log = await readInteractionLines(lines('a\tx\nb\ty\na\ty'))
  assert.equal(log.delimiter, '\t')
  assert.equal(log.header, null)
  assert.equal(log.ratings, null)
  assert.equal(log.timestamps, null)
  assert.deepEqual(Array.from(log.items), [0, 1, 1])
})

test('readInteractionLines with explicit column names reorders columns', async () => {
  const log = await readInteractionLines(lines('ts,item,who\n5,x,alice\n6,y,bob'), { userColumn: 'who', itemColumn: 'item', timestampColumn: 'ts', ratingColumn: null })
  assert.deepEqual(log.userIds, ['alice', 'bob'])
  assert.deepEqual(Array.from(log.timestamps!), [5, 6])
})

test('readInteractionLines reports bad rows with their line numbers and keeps the good ones when under the share', async () => {
  const good = Array.from({ length: 200 }, (_, i) => `u${i % 7},i${i % 11},4,${i}`)
  const text = ['user,item,rating,timestamp', ...good.slice(0, 50), 'u1,i2,notanumber,5', ...good.slice(50, 150), 'onlyonefield', ...good.slice(150)].join('\n')
  const log = await readInteractionLines(lines(text), { maxBadRowsShare: 0.05 })
  assert.equal(log.badRows, 2)
  assert.deepEqual(log.badRowSamples.map((b) => b.line), [52, 153])
  assert.match(log.badRowSamples[0].reason, /rating "notanumber"/)
  assert.equal(log.count, 200)
})

test('readInteractionLines fails with a clear message when bad rows exceed the allowed share', async () => {
  const text = 'user,item,rating\na,x,1\nb,y,oops\nc,z,2\nd,w,??'
  await assert.rejects(readInteractionLines(lines(text), { maxBadRowsShare: 0.1 }), (err: unknown) => {
    assert.ok(err instanceof TrainerInputError)
    assert.match(err.message, /2 of 4 data rows are malformed/)
    assert.match(err.message, /line 3/)
    return true
  })
})

test('readInteractionLines with --min-rating drops low ratings without counting them as bad', async () => {
  const log = await readInteractionLines(lines('user,item,rating\na,x,1\na,y,4\nb,x,5'), { minRating: 3.5 })
  assert.equal(log.count, 2)
  assert.equal(log.belowThreshold, 1)
  assert.equal(log.badRows, 0)
  await assert.rejects(readInteractionLines(lines('a,x\nb,y'), { minRating: 3 }), TrainerInputError)
})

test('readInteractionLines refuses empty input, empty ids and unknown named columns', async () => {
  await assert.rejects(readInteractionLines(lines('user,item,rating\n')), /no data rows/)
  await assert.rejects(readInteractionLines(lines('user,item\n,x\n')), /malformed/)
  await assert.rejects(readInteractionLines(lines('user,item\na,x'), { userColumn: 'nope' }), /not in header/)
})

test('splitFields handles RFC 4180 quotes with embedded delimiters and escaped quotes', () => {
  assert.deepEqual(splitFields('1,"Toy Story, The (1995)",Comedy', ','), ['1', 'Toy Story, The (1995)', 'Comedy'])
  assert.deepEqual(splitFields('2,"say ""hi""",x', ','), ['2', 'say "hi"', 'x'])
  assert.deepEqual(splitFields('a,,b', ','), ['a', '', 'b'])
})
