/**
 * Finds a Redis for tests: REDIS_TEST_URL, else the machine's 127.0.0.1:6379, else a throwaway
 * `redis-server` started on a free port (.ci/run installs the binary when it is missing).
 * Each test works under its own key prefix and deletes it afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'

async function answers (url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export function hasRedisServerBinary (): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

export interface ThrowawayRedis {
  readonly url: string
  readonly port: number
  /** Kills the server (SIGKILL: what it acknowledged survives only with `persistDir`). */
  stop (): Promise<void>
  start (): Promise<void>
  /** SIGSTOP: the server holds every connection and answers nothing until resumed. */
  pause (): void
  resume (): void
}

/**
 * A redis-server of our own, which a test may stop, start, pause and resume. Nothing is persisted,
 * unless `persistDir` is given: then every write is in its append-only file before Redis
 * acknowledges it (appendfsync always), so a kill loses nothing acknowledged.
 */
export async function startThrowawayRedis (options: { persistDir?: string } = {}): Promise<ThrowawayRedis> {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let proc: ChildProcess | null = null
  const persistence = options.persistDir === undefined
    ? ['--save', '', '--appendonly', 'no']
    : ['--save', '', '--dir', options.persistDir, '--appendonly', 'yes', '--appendfsync', 'always']
  const start = async (): Promise<void> => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...persistence], { stdio: 'ignore' })
    for (let i = 0; i < 100; i++) {
      if (await answers(url)) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`redis-server on port ${port} did not start`)
  }
  const stop = async (): Promise<void> => {
    const p = proc
    proc = null
    if (!p || p.exitCode !== null) return
    const exited = new Promise((resolve) => p.once('exit', resolve))
    p.kill('SIGKILL')
    await exited
  }
  const signal = (sig: NodeJS.Signals): void => { if (proc?.pid !== undefined && proc.exitCode === null) process.kill(proc.pid, sig) }
  await start()
  return { url, port, stop, start, pause: () => signal('SIGSTOP'), resume: () => signal('SIGCONT') }
}

let shared: Promise<{ url: string, release: () => Promise<void> } | null> | undefined

/** A Redis URL for this test process, or null when none can be had (tests then skip). */
export function testRedisUrl (): Promise<{ url: string, release: () => Promise<void> } | null> {
  shared ??= (async () => {
    const fromEnv = process.env.REDIS_TEST_URL
    if (fromEnv && await answers(fromEnv)) return { url: fromEnv, release: async () => {} }
    if (await answers('redis://127.0.0.1:6379')) return { url: 'redis://127.0.0.1:6379', release: async () => {} }
    if (!hasRedisServerBinary()) return null
    const own = await startThrowawayRedis()
    return { url: own.url, release: own.stop }
  })()
  return shared
}

export function uniquePrefix (): string {
  return `hashrec-test:${randomBytes(6).toString('hex')}:`
}

/** Deletes every key under the prefix. */
export async function deletePrefix (url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length) await client.del(...keys)
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}
