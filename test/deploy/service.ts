/**
 * Runs the service as a separate process (src/index.ts through tsx, as `npm start` runs dist/),
 * for tests of what operators see from outside: /metrics, signals, probes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../helpers/redis.js'

export interface RunningService {
  readonly proc: ChildProcess
  readonly port: number
  readonly base: string
  output (): string
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>
}

/** Starts `command` (default: node running src/index.ts) and waits until /readyz answers 200. */
export async function startService (t: TestContext, env: Record<string, string>, command?: readonly string[]): Promise<RunningService> {
  const port = await freePort()
  const argv = command ?? [process.execPath, '--import', 'tsx', 'src/index.ts']
  const proc = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', LOG_PRETTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  proc.stdout!.on('data', (d: Buffer) => { text += d.toString() })
  proc.stderr!.on('data', (d: Buffer) => { text += d.toString() })
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the service exited with ${proc.exitCode} before it was ready:\n${text}`)
    try {
      const r = await fetch(`${base}/readyz`)
      if (r.status === 200) break
    } catch { /* not listening yet: the model is still loading */ }
    if (Date.now() > deadline) throw new Error(`not ready within 60 s:\n${text}`)
    await sleep(100)
  }
  return { proc, port, base, output: () => text, exited }
}
