/**
 * HTTP framing: every request the server cannot take as HTTP gets an RFC 9457 problem with an
 * x-request-id, never fastify's default JSON, an empty 400 or a silently dropped socket.
 *
 * - Parser errors reach node's `clientError` before any request exists (bad Content-Length, both
 *   Content-Length and Transfer-Encoding, a bad chunk size, bytes a header may not hold, an unknown
 *   HTTP version): 400; headers over node's 16 KiB limit: 431; a method the parser does not know:
 *   501; headers or body not in within REQUEST_TIMEOUT_MS: 408. The answer is written on the raw
 *   socket, which is then closed.
 * - node checks its request and header timeouts on a 30 s interval by default: a body shorter than
 *   its Content-Length waited 45-75 s for its 408 with a 2 s budget. The interval follows the budget.
 * - node answers an HTTP/1.1 request without Host with an empty 400 itself; the check is made here.
 * - CONNECT (this is not a proxy) is answered 405 instead of being dropped.
 * - Bodies: a Content-Encoding other than identity is 415 (nothing here inflates), JSON must be
 *   valid UTF-8 (fastify decoded invalid bytes as U+FFFD and served the result).
 */
import { isUtf8 } from 'node:buffer'
import type { IncomingMessage, ServerOptions } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import { HttpProblem, PROBLEMS, problemType, type Problem, type ProblemKey } from '../errors.js'
import { PROBLEM_CONTENT_TYPE, sendProblem, problemOf } from './errors.js'

/** node's HTTP parser codes and what each is. */
const PARSER_ERRORS: Record<string, { key: ProblemKey, detail: string }> = {
  HPE_HEADER_OVERFLOW: { key: 'headersTooLarge', detail: 'the request line and headers exceed 16 KiB' },
  ERR_HTTP_REQUEST_TIMEOUT: { key: 'requestTimeout', detail: 'the request was not received within the time budget' },
  HPE_INVALID_METHOD: { key: 'notImplemented', detail: 'unknown request method' },
  HPE_INVALID_VERSION: { key: 'malformedRequest', detail: 'unsupported HTTP version' },
  HPE_UNEXPECTED_CONTENT_LENGTH: { key: 'malformedRequest', detail: 'Content-Length together with Transfer-Encoding' },
  HPE_INVALID_CONTENT_LENGTH: { key: 'malformedRequest', detail: 'invalid Content-Length' },
  HPE_INVALID_TRANSFER_ENCODING: { key: 'malformedRequest', detail: 'invalid Transfer-Encoding' },
  HPE_INVALID_CHUNK_SIZE: { key: 'malformedRequest', detail: 'invalid chunk size' },
}

/** Accepted incoming request ids (the app's own rule): short and printable. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

function rawProblem (key: ProblemKey, detail: string, requestId: string): { status: number, head: string, body: string } {
  const entry = PROBLEMS[key]
  const problem: Problem = { type: problemType(key), title: entry.title, status: entry.status, detail, requestId }
  const body = JSON.stringify(problem)
  const head = `HTTP/1.1 ${entry.status} ${entry.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n`
  return { status: entry.status, head, body }
}

/** node http.Server options: timeouts checked at the budget's pace, Host checked by the framing hook. */
export function httpServerOptions (requestTimeoutMs: number): ServerOptions {
  return {
    requireHostHeader: false,
    headersTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeoutMs / 4))),
  }
}

/**
 * fastify's clientErrorHandler: the parser's errors as problems on the raw socket. A reset socket
 * (the client went away) and a response already started get nothing; either way the socket closes.
 */
export function clientErrorHandler (nextRequestId: () => string, log: () => FastifyBaseLogger): NonNullable<FastifyServerOptions['clientErrorHandler']> {
  return (err, socket) => {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true
    // A reset, or the client's end of the stream mid-request (EOF state): it went away.
    if (code === 'ECONNRESET' || code === 'HPE_INVALID_EOF_STATE' || socket.destroyed || !socket.writable || started) {
      log().debug({ code }, 'client connection ended mid-request')
      socket.destroy()
      return
    }
    const known = PARSER_ERRORS[code] ?? { key: 'malformedRequest' as const, detail: `the request could not be parsed as HTTP (${code || 'parse error'})` }
    const answer = rawProblem(known.key, known.detail, nextRequestId())
    log().info({ code, status: answer.status }, 'malformed request answered at the HTTP framing layer')
    socket.end(answer.head + answer.body)
  }
}

export default fp<{ nextRequestId: () => string }>(async (app, options) => {
  // CONNECT asks for a tunnel; node drops the socket when nobody listens for it.
  app.server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const given = req.headers['x-request-id']
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : options.nextRequestId()
    const answer = rawProblem('methodNotAllowed', 'CONNECT is not supported: this server is not a proxy', id)
    socket.on('error', () => {})
    socket.end(answer.head + answer.body)
  })

  app.addHook('onRequest', (request, reply, done) => {
    const headers = request.headers
    if (headers.host === undefined && request.raw.httpVersion === '1.1') {
      sendProblem(reply, problemOf(new HttpProblem('malformedRequest', 'an HTTP/1.1 request needs a Host header'), request))
      return
    }
    const encoding = headers['content-encoding']
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      sendProblem(reply, problemOf(new HttpProblem('unsupportedMediaType', 'Content-Encoding is not supported: send the body uncompressed'), request))
      return
    }
    done()
  })

  // JSON bodies must be UTF-8 (RFC 8259 section 8.1); fastify's parser decodes invalid bytes to U+FFFD.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer
    if (!isUtf8(bytes)) {
      done(new HttpProblem('malformedBody', 'the body is not valid UTF-8'), undefined)
      return
    }
    parseJson(request, bytes.toString('utf8'), done)
  })
}, { name: 'hashrec-framing', dependencies: ['hashrec-errors'], fastify: '5.x' })
