/**
 * The service as deployed, in a child process (`node --import tsx src/index.ts`), for tests of
 * processes: clusters, replicas, signals. Waits are on what the process reports (a worker
 * listening, the serving line), never on a fixed time: a loaded 2-core machine may take long to
 * start two workers, and the test's own timeout is the only bound.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import { WAIT_GUARD_MS } from './wait.js'

const ENTRY = new URL('../../src/index.ts', import.meta.url).pathname

export interface ServiceProcess {
  readonly proc: ChildProcess
  readonly port: number
  /** Everything the process wrote so far (stdout and stderr). */
  output (): string
  /** Resolves once `pattern` has matched `count` times in the output (including what is there already). */
  waitForOutput (pattern: RegExp, count?: number): Promise<void>
  /** Sends `signal` and resolves with the exit code and signal. */
  stop (signal?: NodeJS.Signals): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Resolves with the exit code and signal once the process exits by itself (or by a signal sent earlier). */
  exited (): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

function countMatches (text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'))].length
}

/**
 * Starts the service and resolves once it serves: with WORKERS > 1, once the primary has seen
 * every worker listen. Defaults: loopback, port 0 (the workers of a cluster share it), warnings
 * only, load shedding off (processes starting on shared cores are not the overload it guards against).
 */
export async function startService (t: TestContext, env: Record<string, string>): Promise<ServiceProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', WORKERS: '1', LOG_LEVEL: 'warn', LOG_PRETTY: 'false', MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer): void => { output += chunk.toString(); for (const w of [...waiters]) w() }
  proc.stdout!.on('data', onData)
  proc.stderr!.on('data', onData)
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.after(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGKILL')
    await exited
  })

  const waitForOutput = (pattern: RegExp, count = 1): Promise<void> => new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      waiters.delete(check)
      reject(new Error(`gave up waiting for ${pattern} x${count} after ${WAIT_GUARD_MS} ms:\n${output}`))
    }, WAIT_GUARD_MS)
    const check = (): void => {
      if (countMatches(output, pattern) >= count) { waiters.delete(check); clearTimeout(guard); resolve() }
    }
    waiters.add(check)
    exited.then(([code, signal]) => {
      if (!waiters.has(check)) return
      waiters.delete(check)
      clearTimeout(guard)
      reject(new Error(`the service exited (${code ?? signal}) before ${pattern} x${count}:\n${output}`))
    }, () => {})
    check()
  })

  const workers = Number(env.WORKERS ?? '1')
  if (workers > 1) await waitForOutput(/"msg":"worker listening"/, workers)
  else await waitForOutput(/hashrec serving \S+ at http:\/\/\S+/)
  const port = Number(/hashrec serving \S+ at http:\/\/[^:\s]+:(\d+)/.exec(output)?.[1] ?? /"msg":"worker listening".*?"port":(\d+)/.exec(output)?.[1])
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in the output:\n${output}`)
  return {
    proc,
    port,
    output: () => output,
    waitForOutput,
    async stop (signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      const [code, sig] = await exited
      return { code, signal: sig }
    },
    async exited () {
      const [code, sig] = await exited
      return { code, signal: sig }
    },
  }
}
