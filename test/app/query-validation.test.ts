import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import { validatorCompiler } from 'fastify-type-provider-zod'
import { MEMO_ENTRIES, MEMO_KEY_CHARS, memoizedQueryValidator } from '../../src/query-validation.js'
import { createTestApp } from './helpers.js'

const Query = z.object({
  k: z.coerce.number().int().min(1).max(100).default(10),
  exclude: z.string().optional().transform((s) => s?.split(',')),
})

/** The memoizing compiler over zod's, counting the parses that really ran. */
function counted (httpPart = 'querystring'): { validate: (data: unknown) => any, parses: () => number } {
  let parses = 0
  const compile = memoizedQueryValidator((route: any) => {
    const inner = validatorCompiler(route)
    return (data: unknown) => { parses++; return inner(data) }
  })
  const validate = compile({ schema: Query, method: 'GET', url: '/x', httpPart } as any) as (data: unknown) => any
  return { validate, parses: () => parses }
}

test('a repeated query is parsed once and gets the same frozen value; any other input is parsed afresh', () => {
  const { validate, parses } = counted()
  const first = validate({ k: '5', exclude: 'a,b' })
  assert.deepEqual(first.value, { k: 5, exclude: ['a', 'b'] })
  assert.ok(Object.isFrozen(first.value) && Object.isFrozen(first.value.exclude), 'nothing can change what later requests get')
  assert.equal(validate({ k: '5', exclude: 'a,b' }).value, first.value)
  assert.equal(parses(), 1)
  assert.deepEqual(validate({ k: '6', exclude: 'a,b' }).value, { k: 6, exclude: ['a', 'b'] })
  assert.deepEqual(validate({ k: '5', exclude: 'a,bc' }).value, { k: 5, exclude: ['a', 'bc'] })
  assert.deepEqual(validate({}).value, { k: 10 })
  // Another key order is another fingerprint: parsed afresh, to the same value.
  assert.deepEqual(validate({ exclude: 'a,b', k: '5' }).value, { k: 5, exclude: ['a', 'b'] })
  assert.equal(parses(), 5)
})

test('errors, repeated keys and long queries are never kept; a full memo starts over', () => {
  const { validate, parses } = counted()
  for (let i = 0; i < 3; i++) assert.ok(validate({ k: '0' }).error, 'k below the minimum is an error every time')
  assert.equal(parses(), 3)
  validate({ k: ['1', '2'] })
  validate({ k: ['1', '2'] })
  assert.equal(parses(), 5, 'a repeated key (an array) is parsed each time')
  const long = { k: '3', exclude: 'x'.repeat(MEMO_KEY_CHARS) }
  validate(long)
  validate(long)
  assert.equal(parses(), 7)
  for (let i = 1; i <= MEMO_ENTRIES; i++) validate({ k: '1', exclude: `e${i}` })
  assert.equal(parses(), 7 + MEMO_ENTRIES)
  validate({ k: '1', exclude: 'e1' })
  assert.equal(parses(), 7 + MEMO_ENTRIES, 'still kept')
  validate({ k: '1', exclude: 'one more' })
  validate({ k: '1', exclude: 'e1' })
  assert.equal(parses(), 9 + MEMO_ENTRIES, 'the memo was cleared when it filled')
})

test('params, bodies and headers are validated as before', () => {
  for (const part of ['params', 'body', 'headers']) {
    const { validate, parses } = counted(part)
    validate({ k: '4' })
    validate({ k: '4' })
    assert.equal(parses(), 2, part)
  }
})

test('over HTTP: repeated and varied queries answer as a fresh parse would, bad ones with problem+json each time', async (t) => {
  const { app } = await createTestApp(t, { bundle: { items: 60, users: 10 } })
  const get = (url: string) => app.inject({ method: 'GET', url })
  const a = await get('/v1/users/u1/recommendations?k=3&method=mips&exclude=i1,i2')
  const b = await get('/v1/users/u1/recommendations?k=3&method=mips&exclude=i1,i2')
  assert.equal(a.statusCode, 200)
  assert.equal(b.body, a.body)
  assert.equal(a.json().items.length, 3)
  const other = await get('/v1/users/u2/recommendations?k=3&method=mips&exclude=i1,i2')
  assert.equal(other.statusCode, 200)
  const five = await get('/v1/users/u1/recommendations?k=5&method=mips')
  assert.equal(five.json().items.length, 5)
  assert.ok(!a.json().items.some((i: { id: string }) => i.id === 'i1' || i.id === 'i2'))
  for (let i = 0; i < 2; i++) {
    const bad = await get('/v1/users/u1/recommendations?k=0')
    assert.equal(bad.statusCode, 400)
    assert.match(String(bad.headers['content-type']), /application\/problem\+json/)
  }
  const similar = await get('/v1/items/i3/similar?k=3&method=mips')
  assert.equal(similar.statusCode, 200)
  assert.equal((await get('/v1/items/i3/similar?k=3&method=mips')).body, similar.body)
})
