import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawExchange } from '../helpers/raw-http.js'
import { createTestApp } from './helpers.js'

async function listening (t: Parameters<typeof createTestApp>[0], config: Parameters<typeof createTestApp>[1] = {}) {
  const lines: Array<{ level: number, msg: string, err?: unknown }> = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line)) } }
  const { app } = await createTestApp(t, { ...config, app: { logger: { level: 'debug', stream }, ...config.app } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as { port: number }).port, lines }
}

function problem (res: { status: number, headers: Record<string, string>, body: string }, status: number, slug: string): void {
  assert.equal(res.status, status, res.body)
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/)
  assert.match(res.headers['x-request-id'] ?? '', /^[A-Za-z0-9._:-]{1,128}$/)
  const body = JSON.parse(res.body) as { type: string, status: number, requestId: string }
  assert.equal(body.type, `urn:hashrec:problem:${slug}`)
  assert.equal(body.status, status)
  assert.equal(body.requestId, res.headers['x-request-id'])
}

test('framing errors are problems with a request id: bad Content-Length, CL with TE, bad chunk, NUL in a header, HTTP/9.9, unknown method, huge headers, no Host, CONNECT', async (t) => {
  const { port } = await listening(t)
  const cases: Array<[string, string, number, string]> = [
    ['bad Content-Length', 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'malformed-request'],
    ['Content-Length and Transfer-Encoding', 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'malformed-request'],
    ['bad chunk size', 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400, 'malformed-request'],
    ['NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 400, 'malformed-request'],
    ['HTTP/9.9', 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n', 400, 'malformed-request'],
    ['unknown method', 'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'not-implemented'],
    ['huge header', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers-too-large'],
    ['huge URL', `GET /v1/users/${'u'.repeat(20_000)}/recommendations HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'headers-too-large'],
    ['no Host', 'GET /healthz HTTP/1.1\r\n\r\n', 400, 'malformed-request'],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405, 'method-not-allowed'],
  ]
  for (const [what, bytes, status, slug] of cases) {
    const res = await rawExchange(port, bytes)
    await t.test(what, () => problem(res, status, slug))
    assert.equal((await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status, 200, `healthy after ${what}`)
  }
})

test('a body shorter than its Content-Length is answered 408 once REQUEST_TIMEOUT_MS passes (the check runs at the budget\'s pace, not node\'s 30 s)', async (t) => {
  const { port } = await listening(t, { config: { REQUEST_TIMEOUT_MS: 300 } })
  const started = Date.now()
  // Bounded at 10 s only so a regression fails instead of hanging; node's default interval took 45-75 s.
  const res = await rawExchange(port, 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"events":', 10_000)
  problem(res, 408, 'request-timeout')
  assert.ok(Date.now() - started < 10_000)
  const headers = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 10_000)
  problem(headers, 408, 'request-timeout')
})

test('bodies: Content-Encoding is 415, invalid UTF-8 JSON is 400, 60k unknown keys answer a bounded problem', async (t) => {
  const { app } = await listening(t)
  const gz = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: '{"events":[]}' })
  assert.equal(gz.statusCode, 415)
  assert.match(gz.headers['content-type'] as string, /^application\/problem\+json/)
  const identity = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, payload: '{"events":[{"userId":"u1","itemId":"i1","type":"view"}]}' })
  assert.equal(identity.statusCode, 202, identity.body)
  const invalid = Buffer.concat([Buffer.from('{"events":[{"userId":"u'), Buffer.from([0xc3, 0x28]), Buffer.from('","itemId":"i1","type":"view"}]}')])
  const utf8 = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload: invalid })
  assert.equal(utf8.statusCode, 400)
  assert.match(utf8.json().detail, /not valid UTF-8/)
  const keys = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, 1]))
  const huge = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u1', ...keys } })
  assert.equal(huge.statusCode, 400)
  assert.ok(huge.body.length < 4096, `${huge.body.length} bytes`)
  assert.ok((huge.json().invalidParams as unknown[]).length <= 10)
})

test('a client that aborts mid-body is logged below error, without a stack', async (t) => {
  const { port, lines } = await listening(t)
  await rawExchange(port, async (socket) => {
    socket.write('POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"events":[')
    await new Promise((resolve) => setTimeout(resolve, 50))
    socket.destroy()
  }, 2000)
  // The abort reaches the server on its next turns.
  for (let i = 0; i < 100 && !lines.some((l) => /client aborted/.test(l.msg)); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.ok(lines.some((l) => l.level === 30 && /client aborted/.test(l.msg)), JSON.stringify(lines))
  assert.deepEqual(lines.filter((l) => l.level >= 50), [])
})
