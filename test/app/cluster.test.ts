import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { get } from 'node:http'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'
import { freePort } from '../helpers/redis.js'


/** One request on a fresh connection (no keep-alive), so the cluster may hand it to any worker. */
function healthz (port: number): Promise<{ status: number, worker: string | undefined }> {
  return new Promise((resolve, reject) => {
    // A connection the primary handed to a worker that just died is never answered: time out.
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1000 }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: res.headers['x-hashrec-worker'] as string | undefined }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

test('WORKERS=2 serves from two worker processes on one port, replaces a crashed one, and exits 0 on SIGTERM', async (t) => {
  const { dir: root, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(root, 'v1'), { items: 200, users: 50, version: 'v1' })
  const port = await freePort()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    env: { ...process.env, WORKERS: '2', PORT: String(port), HOST: '127.0.0.1', MODEL_DIR: join(root, 'v1'), MODELS_ROOT: root, LOG_LEVEL: 'warn', SHUTDOWN_DELAY_MS: '2000', LOG_PRETTY: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  proc.stdout.on('data', (d: Buffer) => { output += d.toString() })
  proc.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })

  const workers = new Set<string>()
  const deadline = Date.now() + 30_000
  while (workers.size < 2 && Date.now() < deadline) {
    try {
      const r = await healthz(port)
      assert.equal(r.status, 200)
      if (r.worker !== undefined) workers.add(r.worker)
    } catch {
      await sleep(100) // not listening yet: the workers are still loading
    }
  }
  assert.equal(workers.size, 2, `saw workers ${[...workers].join(', ')}; output:\n${output}`)
  assert.ok(![...workers].includes(String(proc.pid)), 'the primary must not serve')

  // A crashed worker is replaced (after the first backoff, 0.5 s) and the new one serves.
  const [victim] = workers
  process.kill(Number(victim), 'SIGKILL')
  let replacement: string | undefined
  const restartDeadline = Date.now() + 15_000
  while (replacement === undefined && Date.now() < restartDeadline) {
    try {
      const r = await healthz(port)
      if (r.worker !== undefined && !workers.has(r.worker)) replacement = r.worker
    } catch { /* the surviving worker may be mid-accept */ }
    await sleep(50)
  }
  assert.ok(replacement !== undefined, `no replacement worker answered; output:\n${output}`)
  assert.match(output, /worker exited unexpectedly: restarting/)
  workers.delete(victim)
  workers.add(replacement)

  proc.kill('SIGTERM')
  const [code, signal] = await Promise.race([exited, sleep(10_000, undefined, { ref: false }).then(() => [null, 'timeout'] as const)])
  assert.equal(signal, null, output)
  assert.equal(code, 0, output)
  assert.match(output, /all workers stopped/)
  for (const pid of workers) assert.throws(() => process.kill(Number(pid), 0), /ESRCH/)
})
