import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestApp } from './helpers.js'
import { loggerOptions } from '../../src/app.js'
import { createConfig } from '../../src/config.js'

test('logs are JSON lines carrying the request id; a 500 is logged in full while the client sees none of it', async (t) => {
  const lines: Record<string, unknown>[] = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } }
  const failing = () => { throw new Error('engine exploded') }
  const { app } = await createTestApp(t, { config: { LOG_REQUESTS: 'true' }, app: { logger: loggerOptions(createConfig({ LOG_LEVEL: 'info' }), stream), createEngines: () => ({ hamming: failing, mips: failing, hybrid: failing }) } })
  const res = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations', headers: { 'x-request-id': 'trace-42', authorization: 'Bearer secret-value' } })
  assert.equal(res.statusCode, 500)
  const mine = lines.filter((l) => l.requestId === 'trace-42')
  assert.ok(mine.some((l) => l.msg === 'incoming request'))
  assert.ok(mine.some((l) => l.msg === 'request completed'))
  const error = mine.find((l) => l.level === 50)
  assert.ok(error, 'the failure is logged at error level')
  assert.match(JSON.stringify(error), /engine exploded/)
  assert.ok(!JSON.stringify(lines).includes('secret-value'), 'the bearer token never reaches the logs')
})

test('by default requests are not logged one by one, but failures still are, with their request id', async (t) => {
  const lines: Record<string, unknown>[] = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } }
  const failing = () => { throw new Error('engine exploded') }
  const { app } = await createTestApp(t, { app: { logger: loggerOptions(createConfig({ LOG_LEVEL: 'info' }), stream), createEngines: () => ({ hamming: failing, mips: failing, hybrid: failing }) } })
  const ok = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'fine-1' } })
  assert.equal(ok.statusCode, 200)
  const res = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations', headers: { 'x-request-id': 'trace-43' } })
  assert.equal(res.statusCode, 500)
  assert.equal(lines.filter((l) => l.requestId === 'fine-1').length, 0, 'a served request writes no line')
  assert.ok(!lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed'))
  const error = lines.find((l) => l.requestId === 'trace-43' && l.level === 50)
  assert.ok(error, 'the failure is logged at error level with its request id')
  assert.match(JSON.stringify(error), /engine exploded/)
})
