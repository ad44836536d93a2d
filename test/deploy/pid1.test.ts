import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'
import { startService } from './service.js'

// The image runs node as PID 1 with no init (Dockerfile). PID 1 is special: the kernel delivers it
// only the signals it has handlers for, and orphans are re-parented to it. A fresh PID namespace
// (util-linux unshare, as root) puts the service in that position without a container engine.
const canUnshare = spawnSync('unshare', ['--pid', '--fork', 'true'], { stdio: 'ignore' }).status === 0

function children (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch { return [] }
}

function state (pid: number): string {
  return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?'
}

async function until<T> (what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

test('as PID 1 of its own PID namespace, the service reaps a killed worker and drains on SIGTERM with exit code 0', { skip: canUnshare ? false : 'unshare --pid needs root and util-linux' }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(dir, 'm'), { items: 100, users: 20 })
  const svc = await startService(t, { WORKERS: '2', MODEL_DIR: join(dir, 'm'), MODELS_ROOT: dir, SHUTDOWN_DELAY_MS: '3000', WARM_UP_USERS: '0' },
    ['unshare', '--pid', '--fork', '--kill-child', process.execPath, '--import', 'tsx', 'src/index.ts'])
  const [primary] = children(svc.proc.pid!)
  assert.ok(primary, 'unshare forked the service')
  assert.match(readFileSync(`/proc/${primary}/status`, 'utf8'), /^NSpid:\s+\d+\s+1$/m, 'the service is PID 1 in its namespace')
  const workers = await until('two workers', () => { const c = children(primary); return c.length === 2 ? c : undefined })

  // A worker that dies is waited for by its parent: no zombie is left, and it is replaced.
  process.kill(workers[0], 'SIGKILL')
  await until('the killed worker reaped and replaced', () => {
    const now = children(primary)
    return !now.includes(workers[0]) && now.length === 2 && now.every((c) => state(c) !== 'Z') ? now : undefined
  })

  process.kill(primary, 'SIGTERM')
  const [code, signal] = await svc.exited
  assert.equal(signal, null, svc.output())
  assert.equal(code, 0, svc.output())
  assert.match(svc.output(), /all workers stopped/)
})
