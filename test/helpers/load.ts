/**
 * A closed-loop HTTP load for drain and outage tests: `connections` loops, each sending its next
 * request when the last one ends, through one keep-alive agent (as a load balancer's upstream pool
 * does). Every request is recorded with when it was sent and how it ended.
 */
import { Agent, request } from 'node:http'

export interface Outcome {
  /** Date.now() when the request was handed to the agent. */
  readonly sentAt: number
  readonly status: number
  /** The error code when the request failed without a response (ECONNREFUSED, ECONNRESET...). */
  readonly error?: string
  /** The response's Connection header. */
  readonly connection?: string
}

export interface Load {
  readonly outcomes: Outcome[]
  /** Stops the loops and resolves once every request in flight has ended. */
  stop (): Promise<void>
}

export function startLoad (port: number, options: { connections: number, path: (i: number) => string, method?: string, body?: (i: number) => unknown }): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections })
  const outcomes: Outcome[] = []
  let running = true
  let n = 0
  const one = (): Promise<void> => new Promise((resolve) => {
    const i = n++
    const body = options.body?.(i)
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const sentAt = Date.now()
    const req = request({ host: '127.0.0.1', port, path: options.path(i), method: options.method ?? 'GET', agent, headers: payload === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => { outcomes.push({ sentAt, status: res.statusCode ?? 0, connection: res.headers.connection }); resolve() })
      res.on('error', (err: NodeJS.ErrnoException) => { outcomes.push({ sentAt, status: 0, error: err.code ?? err.message }); resolve() })
    })
    req.on('error', (err: NodeJS.ErrnoException) => { outcomes.push({ sentAt, status: 0, error: err.code ?? err.message }); resolve() })
    req.end(payload)
  })
  const loops = Array.from({ length: options.connections }, async () => {
    while (running) {
      await one()
      // A refused connection answers at once: pace the loop instead of spinning on it.
      if (outcomes.at(-1)?.error === 'ECONNREFUSED') await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })
  return {
    outcomes,
    async stop () {
      running = false
      await Promise.all(loops)
      agent.destroy()
    },
  }
}
