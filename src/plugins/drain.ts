/**
 * The drain on SIGTERM (src/index.ts calls `app.drain`), so a rolling restart loses no request:
 * 1. /readyz answers 503 at once, and requests are still served for `delayMs`: load balancers
 *    probe readiness every few seconds and keep sending until they see it fail. Closing the
 *    listener first (what close-with-grace did alone, ~0.1 s after the signal) met the traffic
 *    still in flight to this replica with connection refused.
 * 2. The listener closes (no new connections) but open keep-alive connections stay: each next
 *    answer carries Connection: close. node's http close would also drop idle keep-alive sockets
 *    at once, resetting a request a client is sending on one at that moment; they get `lingerMs`
 *    to bring it, then the idle ones are closed.
 * 3. In-flight requests get up to `finishMs`, then the app closes (its resources with it).
 * close-with-grace bounds the whole by SHUTDOWN_DELAY_MS.
 */
import { Server } from 'node:net'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

export interface DrainPlan {
  /** From the signal to closing the listener: /readyz answers 503, requests are served. */
  readonly delayMs: number
  /** After the listener closes: how long an idle keep-alive connection may bring a last request. */
  readonly lingerMs: number
  /** Then: how long requests in flight may take before the app closes anyway. */
  readonly finishMs: number
}

declare module 'fastify' {
  interface FastifyInstance {
    drain (plan: DrainPlan): Promise<void>
  }
}

const POLL_MS = 20

/**
 * The phases of the drain on SIGTERM within SHUTDOWN_DELAY_MS: the delay before the listener
 * closes, then up to a second for idle keep-alive connections' last requests, then requests in
 * flight, leaving a quarter of what remains (at most 1 s) to close the app's resources.
 */
export function drainPlan (config: Pick<Config, 'SHUTDOWN_DELAY_MS' | 'DRAIN_DELAY_MS'>): DrainPlan {
  const delayMs = config.DRAIN_DELAY_MS ?? Math.min(3000, Math.floor(config.SHUTDOWN_DELAY_MS / 2))
  const left = config.SHUTDOWN_DELAY_MS - delayMs
  const lingerMs = Math.min(1000, Math.floor(left / 4))
  const closeMs = Math.min(1000, Math.floor(left / 4))
  return { delayMs, lingerMs, finishMs: Math.max(0, left - lingerMs - closeMs) }
}

export default fp(async (app) => {
  const connections = (): Promise<number> => new Promise((resolve) => { app.server.getConnections((err, n) => resolve(err ? 0 : n)) })
  const until = async (deadline: number): Promise<void> => {
    while (Date.now() < deadline && await connections() > 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  app.decorate('drain', async (plan: DrainPlan) => {
    app.readiness.setPhase('draining')
    app.log.info({ delayMs: plan.delayMs }, 'draining: /readyz answers 503, requests are still served')
    await new Promise((resolve) => setTimeout(resolve, plan.delayMs))
    app.readiness.setPhase('closing')
    if (app.server.listening) {
      // net.Server's close, not http.Server's: see step 2 above.
      Server.prototype.close.call(app.server)
      app.log.info({ at: Date.now(), lingerMs: plan.lingerMs }, 'listener closed: open connections get Connection: close')
    }
    await until(Date.now() + plan.lingerMs)
    app.server.closeIdleConnections()
    await until(Date.now() + plan.finishMs)
    await app.close()
  })
}, { name: 'hashrec-drain', dependencies: ['hashrec-readiness'], fastify: '5.x' })
