/**
 * HTTP at the byte level, for requests no HTTP client would send: malformed framing, slow or cut
 * bodies. One connection per exchange; reads until the server closes it or one full response is in.
 */
import { connect, type Socket } from 'node:net'

export interface RawResponse {
  /** 0 when the server closed the connection without answering. */
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
  /** The server closed the connection (after its answer, or instead of one). */
  readonly closed: boolean
  /** The connection was reset rather than closed. */
  readonly reset: boolean
}

function parse (bytes: Buffer): { status: number, headers: Record<string, string>, body: string, complete: boolean } | null {
  const end = bytes.indexOf('\r\n\r\n')
  if (end < 0) return null
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const i = line.indexOf(':')
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  const body = bytes.subarray(end + 4)
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length'])
  const complete = length !== undefined && body.length >= length
  return { status, headers, body: body.subarray(0, length ?? body.length).toString('utf8'), complete }
}

/**
 * Connects, lets `send` write (strings and buffers, possibly over time), and resolves with the
 * first response once it is complete or the server closes. `timeoutMs` bounds a server that
 * neither answers nor closes (resolved with status 0, not closed).
 */
export function rawExchange (port: number, send: string | Buffer | ((socket: Socket) => void | Promise<void>), timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    let reset = false
    let settled = false
    const finish = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const parsed = parse(Buffer.concat(chunks))
      socket.destroy()
      resolve({ status: parsed?.status ?? 0, headers: parsed?.headers ?? {}, body: parsed?.body ?? '', closed, reset })
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.on('data', (d: Buffer) => {
      chunks.push(d)
      if (parse(Buffer.concat(chunks))?.complete === true) finish(false)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true })
    socket.on('close', () => finish(true))
    socket.on('connect', () => {
      if (typeof send === 'function') void Promise.resolve(send(socket)).catch(() => {})
      else socket.write(send)
    })
  })
}
