import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { IdListError, JsonlIdIndex } from '../../src/model-loader/id-index.js'

const LIMITS = { maxIdBytes: 256, maxTitleBytes: 4096, maxTagBytes: 256, maxTags: 100 }
const lines = (rows: object[]): Buffer => Buffer.from(rows.map((r) => JSON.stringify(r) + '\n').join(''))

test('JsonlIdIndex maps every id to its row and back, whatever characters it holds', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), { maxLength: 60 }), (ids) => {
    fc.pre(ids.every((id) => Buffer.byteLength(id) <= 256 && Buffer.byteLength(id) > 0))
    const index = new JsonlIdIndex(lines(ids.map((id) => ({ id }))), ids.length, false, LIMITS)
    for (let row = 0; row < ids.length; row++) {
      assert.equal(index.rowOf(ids[row]), row)
      assert.equal(index.idAt(row), ids[row])
    }
    assert.equal(index.rowOf('\u0000not-there'), undefined)
  }), { numRuns: 200 })
})

test('JsonlIdIndex decodes titles and tags, escapes included, and reports absent ones', () => {
  const index = new JsonlIdIndex(lines([
    { id: 'a', title: 'He said "hi" \\ bye', tags: ['x', 'y"z'] },
    { id: 'b' },
    { tags: [], id: 'c', title: 'Été' },
  ]), 3, true, LIMITS)
  assert.equal(index.title(0), 'He said "hi" \\ bye')
  assert.deepEqual(index.tags(0), ['x', 'y"z'])
  assert.equal(index.title(1), undefined)
  assert.equal(index.tags(1), undefined)
  assert.equal(index.title(2), 'Été')
  assert.deepEqual(index.tags(2), [])
  assert.equal(index.rowOf('c'), 2)
})

test('JsonlIdIndex accepts whitespace and CRLF line endings', () => {
  const index = new JsonlIdIndex(Buffer.from('  { "id" : "a" , "title":"T" }\r\n{"id":"b"}\r\n'), 2, true, LIMITS)
  assert.equal(index.rowOf('b'), 1)
  assert.equal(index.title(0), 'T')
})

test('JsonlIdIndex refuses malformed lines, naming the line and the problem', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"id":"a"}\n\n', /line 2: not valid JSON: expected \{/],
    ['{"id":"a"}{"id":"b"}\n', /line 1: not valid JSON: text after the object/],
    ['{"id":"a",}\n', /line 1: not valid JSON: expected a string/],
    ['{"id":"a\\x"}\n', /line 1: not valid JSON: bad escape/],
    ['{"id":"a\\u12"}\n', /line 1: not valid JSON: bad \\u escape/],
    ['{"id":"a\tb"}\n', /line 1: not valid JSON: control character in a string/],
    ['{"id":"a","id":"b"}\n', /line 1: duplicate field "id"/],
    ['{"title":"x"}\n', /line 1: missing "id"/],
    ['{}\n', /line 1: missing "id"/],
    ['{"id":""}\n', /line 1: id must be 1..256 UTF-8 bytes/],
    ['{"id":"a","tags":"x"}\n', /line 1: not valid JSON: expected an array of strings for tags/],
    ['{"id":"a","tags":[1]}\n', /line 1: tags must be an array of strings/],
    ['{"id":"a","extra":1}\n', /line 1: unknown field "extra"/],
    ['{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n', /more than the 2 entries/],
  ]
  for (const [text, pattern] of cases) {
    assert.throws(() => new JsonlIdIndex(Buffer.from(text), 2, true, LIMITS), (err: unknown) => err instanceof IdListError && pattern.test(err.message), text)
  }
  assert.throws(() => new JsonlIdIndex(Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x0a]), 1, false, LIMITS), /not valid UTF-8/)
})

test('JsonlIdIndex finds duplicates even when one spelling uses escapes', () => {
  assert.throws(() => new JsonlIdIndex(Buffer.from('{"id":"é"}\n{"id":"\\u00e9"}\n'), 2, false, LIMITS), /line 2: duplicate id "é" \(also on line 1\)/)
})

test('JsonlIdIndex enforces title, tag and id byte limits', () => {
  const small = { maxIdBytes: 4, maxTitleBytes: 3, maxTagBytes: 2, maxTags: 1 }
  assert.throws(() => new JsonlIdIndex(lines([{ id: 'abcde' }]), 1, true, small), /id must be 1..4 UTF-8 bytes/)
  assert.throws(() => new JsonlIdIndex(lines([{ id: 'a', title: 'abcd' }]), 1, true, small), /title must be at most 3 bytes/)
  assert.throws(() => new JsonlIdIndex(lines([{ id: 'a', tags: ['abc'] }]), 1, true, small), /each tag must be at most 2 bytes/)
  assert.throws(() => new JsonlIdIndex(lines([{ id: 'a', tags: ['a', 'b'] }]), 1, true, small), /at most 1 tags/)
})

test('JsonlIdIndex reports the earliest duplicate in file order when there are several', () => {
  const text = ['a', 'b', 'c', 'b', 'a', 'c'].map((id) => JSON.stringify({ id })).join('\n') + '\n'
  assert.throws(() => new JsonlIdIndex(Buffer.from(text), 6, false, LIMITS), /line 4: duplicate id "b" \(also on line 2\)/)
})

/** Both scanners on the same bytes: the same rows, ids, titles and tags, or the same error. */
function sameOutcome (text: Buffer, expected: number, allowMeta: boolean, limits: typeof LIMITS): void {
  const build = (fast: boolean): JsonlIdIndex | string => {
    try { return new JsonlIdIndex(text, expected, allowMeta, limits, fast) } catch (err) {
      assert.ok(err instanceof IdListError, String(err))
      return `${err.message} [${err.field}]`
    }
  }
  const fast = build(true)
  const strict = build(false)
  if (typeof fast === 'string' || typeof strict === 'string') {
    assert.equal(fast, strict, text.toString())
    return
  }
  for (let row = 0; row < expected; row++) {
    const id: string = strict.idAt(row)
    assert.equal(fast.idAt(row), id)
    assert.equal(fast.rowOf(id), strict.rowOf(id))
    assert.equal(fast.title(row), strict.title(row))
    assert.deepEqual(fast.tags(row), strict.tags(row))
  }
}

const trickyText = fc.oneof(fc.constantFrom('a', 'item-1', 'é', '"', '\\', '\t', '\u0000', '\u2028', 'x'.repeat(9), ''), fc.string({ unit: 'binary', maxLength: 10 }))

test('JsonlIdIndex fast path and strict scanner agree on tricky lines: escapes, spacing, field order, limits, corruptions', () => {
  const text = trickyText
  const line = fc.record({
    id: text,
    title: fc.option(text, { nil: undefined }),
    tags: fc.option(fc.array(text, { maxLength: 3 }), { nil: undefined }),
    titleFirst: fc.boolean(),
    space: fc.constantFrom('', ' ', '\t'),
    eol: fc.constantFrom('\n', '\r\n', ''),
  }).map((l) => {
    const fields = [`"id":${JSON.stringify(l.id)}`]
    if (l.title !== undefined) fields[l.titleFirst ? 'unshift' : 'push'](`"title":${JSON.stringify(l.title)}`)
    if (l.tags !== undefined) fields.push(`"tags":${JSON.stringify(l.tags)}`)
    return `{${l.space}${fields.join(`,${l.space}`)}}${l.eol}`
  })
  const mutation = fc.option(fc.tuple(fc.nat(), fc.constantFrom(0x22, 0x5c, 0x7b, 0x7d, 0x2c, 0x3a, 0x20, 0x0a, 0x0d, 0x09, 0x00, 0x61)), { nil: undefined })
  const small = { maxIdBytes: 8, maxTitleBytes: 6, maxTagBytes: 4, maxTags: 2 }
  fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), mutation, fc.boolean(), fc.boolean(), (ls, mut, allowMeta, tight) => {
    const bytes = Buffer.from(ls.map((l) => l.endsWith('\n') ? l : l + '\n').join(''))
    if (mut) bytes[mut[0] % bytes.length] = mut[1]
    sameOutcome(bytes, ls.length, allowMeta, tight ? small : LIMITS)
  }), { numRuns: 2000 })
})

test('JsonlIdIndex fast path handles a last line without a newline and duplicates across both paths', () => {
  sameOutcome(Buffer.from('{"id":"a","title":"T"}\n{"id":"b"}'), 2, true, LIMITS)
  assert.throws(() => new JsonlIdIndex(Buffer.from('{"id":"b"}\n{ "id":"a"}\n{"id":"a"}\n'), 3, false, LIMITS), /line 3: duplicate id "a" \(also on line 2\)/)
  assert.throws(() => new JsonlIdIndex(Buffer.from('{"id":"\\u0061"}\n{"id":"a"}\n'), 2, false, LIMITS), /line 2: duplicate id "a" \(also on line 1\)/)
})

test('JsonlIdIndex.parse in slices (pausing between them) builds the same index and throws the same errors as the constructor', async () => {
  const line = fc.record({ id: trickyText, title: fc.option(trickyText, { nil: undefined }) })
    .map((l) => JSON.stringify(l.title === undefined ? { id: l.id } : { id: l.id, title: l.title }) + '\n')
  const mutation = fc.option(fc.tuple(fc.nat(), fc.constantFrom(0x22, 0x5c, 0x7b, 0x0a, 0x61)), { nil: undefined })
  const outcome = async (make: () => Promise<JsonlIdIndex> | JsonlIdIndex): Promise<JsonlIdIndex | string> => {
    try { return await make() } catch (err) {
      assert.ok(err instanceof IdListError, String(err))
      return `${err.message} [${err.field}]`
    }
  }
  await fc.assert(fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 9 }), mutation, fc.integer({ min: -1, max: 1 }), fc.integer({ min: 1, max: 4 }), async (ls, mut, countOff, slice) => {
    const bytes = Buffer.from(ls.join(''))
    if (mut) bytes[mut[0] % bytes.length] = mut[1]
    const expected = Math.max(1, ls.length + countOff)
    let pauses = 0
    const whole = await outcome(() => new JsonlIdIndex(bytes, expected, true, LIMITS))
    const sliced = await outcome(() => JsonlIdIndex.parse(bytes, expected, true, LIMITS, async () => { pauses++ }, { rowsPerStep: slice, sliceMs: 0 }))
    if (typeof whole === 'string' || typeof sliced === 'string') {
      assert.equal(sliced, whole)
      return
    }
    assert.ok(pauses >= Math.ceil(expected / slice), `paused ${pauses} times`)
    for (let row = 0; row < expected; row++) {
      assert.equal(sliced.idAt(row), whole.idAt(row))
      assert.equal(sliced.rowOf(whole.idAt(row)), row)
      assert.equal(sliced.title(row), whole.title(row))
    }
  }), { numRuns: 500 })
})

test('JsonlIdIndex finds ASCII and non-ASCII ids that share prefixes, and nothing for near misses', () => {
  const ids = ['ab', 'abé', 'a', 'é', 'ab\u{1F600}', 'x'.repeat(200)]
  const index = new JsonlIdIndex(lines(ids.map((id) => ({ id }))), ids.length, false, LIMITS)
  ids.forEach((id, row) => assert.equal(index.rowOf(id), row, id))
  for (const miss of ['abe', 'ab\u{1F601}', 'b', 'x'.repeat(199), 'x'.repeat(201), '']) assert.equal(index.rowOf(miss), undefined, miss)
})
