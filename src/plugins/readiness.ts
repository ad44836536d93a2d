/**
 * Readiness checks: `/readyz` answers 200 only when a model is active and every registered
 * dependency check resolves. Plugins that open a dependency (Redis, the cluster's state replica) add theirs.
 */
import fp from 'fastify-plugin'

/** A check resolves when its dependency answers; it is given at most `timeoutMs`. */
export type ReadinessCheck = () => Promise<void>

export interface CheckResult {
  readonly name: string
  readonly ok: boolean
  readonly detail?: string
}

export interface Readiness {
  add (name: string, check: ReadinessCheck): void
  run (): Promise<CheckResult[]>
}

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness
  }
}

export function createReadiness (timeoutMs: number): Readiness {
  const checks = new Map<string, ReadinessCheck>()
  return {
    add (name, check) { checks.set(name, check) },
    async run () {
      return Promise.all([...checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined
        try {
          await Promise.race([
            check(),
            new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) }),
          ])
          return { name, ok: true }
        } catch (err) {
          return { name, ok: false, detail: (err as Error).message }
        } finally {
          clearTimeout(timer)
        }
      }))
    },
  }
}

export default fp<{ timeoutMs?: number }>(async (app, options) => {
  app.decorate('readiness', createReadiness(options.timeoutMs ?? 1000))
}, { name: 'hashrec-readiness', fastify: '5.x' })
