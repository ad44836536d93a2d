/**
 * Hostile HTTP against a listening service, every endpoint: malformed framing, slow clients,
 * oversized and malformed bodies, bad parameters, auth and path tricks. Each case must get its
 * expected status as RFC 9457 problem+json with an x-request-id (the one in the body when the body
 * names one), and the service must be healthy after each. Unknown request methods are answered 501
 * (RFC 9110 section 9.1); every other case is a 4xx.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createTestApp, TEST_TOKEN } from '../app/helpers.js'
import { writeTestBundle } from '../helpers/bundle-fixture.js'
import { rawExchange, type RawResponse } from '../helpers/raw-http.js'

const AUTH = `Authorization: Bearer ${TEST_TOKEN}\r\n`

/** A request as bytes: GET without a body, or a JSON (or other) body with its Content-Length. */
function http (method: string, path: string, body?: string | Buffer, headers = ''): Buffer {
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body)
  const type = body !== undefined && !/content-type/i.test(headers) ? 'Content-Type: application/json\r\n' : ''
  const length = body !== undefined ? `Content-Length: ${payload.length}\r\n` : ''
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: hashrec\r\nConnection: close\r\n${type}${length}${headers}\r\n`), payload])
}

interface Case {
  readonly name: string
  readonly send: Buffer | string | ((socket: import('node:net').Socket) => Promise<void>)
  readonly status: number
  readonly type: string
}

const user = '/v1/users/u1/recommendations'
const keys60k = JSON.stringify({ userId: 'u1', ...Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, 1])) })

const CASES: Case[] = [
  // Framing: the HTTP parser's errors.
  { name: 'Content-Length not a number', send: 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'negative Content-Length', send: 'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'two different Content-Lengths', send: 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{"a":1}', status: 400, type: 'malformed-request' },
  { name: 'Content-Length with Transfer-Encoding', send: 'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'bad chunk size', send: 'POST /v1/recommendations/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'an unknown Transfer-Encoding and no body type', send: 'POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: bogus\r\n\r\n', status: 415, type: 'unsupported-media-type' },
  { name: 'NUL in a header value', send: 'GET /v1/model HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'space before the colon of a header name', send: 'GET /v1/model HTTP/1.1\r\nHost : x\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'bare CR in a header', send: 'GET /readyz HTTP/1.1\r\nHost: x\r\nX-A: 1\rX-B: 2\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'HTTP/9.9', send: 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'text after the version', send: 'GET /metrics HTTP/1.1 please\r\nHost: x\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'a folded header line', send: 'GET /readyz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'a space in a header name', send: 'GET /v1/model HTTP/1.1\r\nHost: x\r\nX Bad: 1\r\n\r\n', status: 400, type: 'malformed-request' },
  { name: 'unknown method', send: 'BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n', status: 501, type: 'not-implemented' },
  { name: 'lower-case method', send: 'get /healthz HTTP/1.1\r\nHost: x\r\n\r\n', status: 501, type: 'not-implemented' },
  { name: 'CONNECT', send: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', status: 405, type: 'method-not-allowed' },
  { name: 'a 20 KB header', send: `GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, type: 'headers-too-large' },
  { name: 'a 20 KB URL', send: `GET /v1/users/${'u'.repeat(20_000)}/recommendations HTTP/1.1\r\nHost: x\r\n\r\n`, status: 431, type: 'headers-too-large' },
  { name: 'a 20 KB cookie on /metrics', send: `GET /metrics HTTP/1.1\r\nHost: x\r\nCookie: ${'c=1; '.repeat(4000)}\r\n\r\n`, status: 431, type: 'headers-too-large' },
  { name: 'HTTP/1.1 without Host', send: 'GET /v1/model HTTP/1.1\r\n\r\n', status: 400, type: 'malformed-request' },
  {
    name: 'headers that never end (slow client)',
    send: async (socket) => { socket.write('GET /v1/model HTTP/1.1\r\nHost: x\r\n') },
    status: 408,
    type: 'request-timeout',
  },
  {
    name: 'a body shorter than its Content-Length',
    send: async (socket) => { socket.write('POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"events":[') },
    status: 408,
    type: 'request-timeout',
  },
  // Bodies.
  { name: 'invalid JSON', send: http('POST', '/v1/events', '{"events": [}'), status: 400, type: 'malformed-body' },
  { name: 'JSON that is not UTF-8', send: http('POST', '/v1/recommendations', Buffer.concat([Buffer.from('{"userId":"u'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), status: 400, type: 'malformed-body' },
  { name: 'an empty JSON body', send: http('POST', '/v1/recommendations', ''), status: 400, type: 'malformed-body' },
  { name: 'a __proto__ key', send: http('POST', '/v1/recommendations', '{"userId":"u1","__proto__":{"polluted":true}}'), status: 400, type: 'malformed-body' },
  { name: 'Content-Encoding: gzip on a plain body', send: http('POST', '/v1/recommendations/batch', '{"requests":[{"userId":"u1"}]}', 'Content-Encoding: gzip\r\n'), status: 415, type: 'unsupported-media-type' },
  { name: 'text/plain', send: http('POST', '/v1/events', 'hello', 'Content-Type: text/plain\r\n'), status: 415, type: 'unsupported-media-type' },
  { name: 'a body over BODY_LIMIT', send: http('POST', '/v1/events', JSON.stringify({ events: [{ userId: 'x'.repeat(2 * 1024 * 1024) }] })), status: 413, type: 'payload-too-large' },
  { name: 'a Content-Length over BODY_LIMIT', send: 'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{', status: 413, type: 'payload-too-large' },
  { name: '60k unknown keys (bounded answer)', send: http('POST', '/v1/recommendations', keys60k), status: 400, type: 'invalid-parameters' },
  { name: '100k nested arrays', send: http('POST', '/v1/recommendations/batch', `{"requests":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), status: 400, type: 'invalid-parameters' },
  // Parameters of every route.
  { name: 'k over the maximum', send: http('GET', `${user}?k=1000000`), status: 400, type: 'invalid-parameters' },
  { name: 'k not a number', send: http('GET', `${user}?k=abc`), status: 400, type: 'invalid-parameters' },
  { name: 'an unknown method parameter', send: http('GET', `${user}?method=evil`), status: 400, type: 'invalid-parameters' },
  { name: 'a control character in a user id', send: http('GET', '/v1/users/a%01b/recommendations'), status: 400, type: 'invalid-parameters' },
  { name: 'a 300-byte user id', send: http('GET', `/v1/users/${'u'.repeat(300)}/recommendations`), status: 400, type: 'invalid-parameters' },
  { name: 'a URL that does not percent-decode', send: http('GET', '/v1/users/%zz/recommendations'), status: 400, type: 'invalid-parameters' },
  { name: 'an exclude list over 1000 ids', send: http('GET', `${user}?exclude=${Array.from({ length: 1001 }, (_, i) => `i${i}`).join(',')}`), status: 400, type: 'invalid-parameters' },
  { name: 'two k parameters', send: http('GET', `${user}?k=1&k=2`), status: 400, type: 'invalid-parameters' },
  { name: 'similar items of an unknown item', send: http('GET', '/v1/items/no-such-item/similar'), status: 404, type: 'unknown-item' },
  { name: 'similar items with ef over the maximum', send: http('GET', '/v1/items/i1/similar?method=mips&ef=99999'), status: 400, type: 'invalid-parameters' },
  { name: 'a body with two queries', send: http('POST', '/v1/recommendations', '{"userId":"u1","itemIds":["i1"]}'), status: 400, type: 'invalid-parameters' },
  { name: 'a vector of the wrong dimension', send: http('POST', '/v1/recommendations', '{"vector":[1,2,3]}'), status: 422, type: 'incompatible-query' },
  { name: 'a code that is not hex', send: http('POST', '/v1/recommendations', '{"code":"zzzz"}'), status: 400, type: 'invalid-parameters' },
  { name: 'a batch of 101', send: http('POST', '/v1/recommendations/batch', JSON.stringify({ requests: Array.from({ length: 101 }, () => ({ userId: 'u1' })) })), status: 400, type: 'invalid-parameters' },
  { name: 'a batch asking for 20000 items', send: http('POST', '/v1/recommendations/batch', JSON.stringify({ requests: Array.from({ length: 20 }, () => ({ userId: 'u1', k: 1000 })) })), status: 400, type: 'invalid-parameters' },
  { name: 'an empty event batch', send: http('POST', '/v1/events', '{"events":[]}'), status: 400, type: 'invalid-parameters' },
  { name: '1001 events', send: http('POST', '/v1/events', JSON.stringify({ events: Array.from({ length: 1001 }, () => ({ userId: 'u', itemId: 'i1', type: 'view' })) })), status: 400, type: 'invalid-parameters' },
  { name: 'events that is not an array', send: http('POST', '/v1/events', '{"events":{"0":1}}'), status: 400, type: 'invalid-parameters' },
  // Admin and unrouted.
  { name: 'reload without a token', send: http('POST', '/admin/model/reload', '{"dir":"v2"}'), status: 401, type: 'unauthorized' },
  { name: 'reload with a wrong token', send: http('POST', '/admin/model/reload', '{"dir":"v2"}', 'Authorization: Bearer wrong-token-wrong-token\r\n'), status: 401, type: 'unauthorized' },
  { name: 'reload of ../', send: http('POST', '/admin/model/reload', '{"dir":"../etc"}', AUTH), status: 400, type: 'invalid-parameters' },
  { name: 'reload of an absolute path', send: http('POST', '/admin/model/reload', '{"dir":"/etc"}', AUTH), status: 400, type: 'invalid-parameters' },
  { name: 'reload of a missing directory', send: http('POST', '/admin/model/reload', '{"dir":"nowhere"}', AUTH), status: 404, type: 'model-not-found' },
  { name: 'POST to a GET route', send: http('POST', '/v1/model', '{}'), status: 404, type: 'not-found' },
  { name: 'DELETE /metrics', send: http('DELETE', '/metrics'), status: 404, type: 'not-found' },
  { name: 'a path outside every route', send: http('GET', '/../../etc/passwd'), status: 404, type: 'not-found' },
]

function assertProblem (c: Case, res: RawResponse): void {
  assert.equal(res.status, c.status, `${c.name}: ${res.body.slice(0, 300)}`)
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, c.name)
  const id = res.headers['x-request-id']
  assert.match(id ?? '', /^[A-Za-z0-9._:-]{1,128}$/, `${c.name}: x-request-id`)
  const body = JSON.parse(res.body) as { type: string, status: number, requestId?: string }
  assert.equal(body.type, `urn:hashrec:problem:${c.type}`, c.name)
  assert.equal(body.status, c.status)
  if (body.requestId !== undefined) assert.equal(body.requestId, id)
  assert.ok(res.body.length < 8192, `${c.name}: a bounded answer (${res.body.length} bytes)`)
}

test(`${CASES.length} hostile HTTP requests across every endpoint: each answered with its problem+json and an x-request-id, the service healthy after each`, { timeout: 300_000 }, async (t) => {
  assert.ok(CASES.length >= 40)
  const { app, root } = await createTestApp(t, { config: { REQUEST_TIMEOUT_MS: 500, MAX_EVENT_LOOP_DELAY_MS: 0 } })
  await writeTestBundle(join(root, 'v2'), { version: 'v2', seed: 3 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const covered = new Set<string>()
  for (const c of CASES) {
    const res = await rawExchange(port, c.send, 20_000)
    await t.test(c.name, () => assertProblem(c, res))
    const path = /^[A-Za-z]+ (\S+)/.exec(typeof c.send === 'function' ? '' : c.send.toString('latin1'))?.[1]?.split('?')[0]
    if (path !== undefined) covered.add(path)
    const health = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.equal(health.status, 200, `healthy after ${c.name}`)
  }
  for (const route of ['/healthz', '/readyz', '/metrics', '/v1/model', '/v1/events', '/v1/recommendations', '/v1/recommendations/batch', '/admin/model/reload']) assert.ok(covered.has(route), `a case on ${route}`)
  // The service still serves, from its first model.
  const res = await app.inject({ method: 'GET', url: `${user}?method=mips` })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().modelVersion, 'v1')
})
