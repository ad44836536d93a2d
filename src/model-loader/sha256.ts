/**
 * SHA-256 of bundle files. Large files are hashed by one worker thread so checksums run on the
 * second core while the main thread parses and validates (measured on a 1M-item bundle: hashing
 * ~700 MB inline cost more than the rest of the load put together).
 *
 * The worker hashes the very bytes the loader uses: it reads a file the main thread needs into
 * shared memory (or hashes shared memory the main thread filled), so no file is read twice. One
 * worker serves every file of a load, in the order they were asked for: on 2 cores a worker per
 * file (the earlier design) left three hashing threads, hnswlib's reader and the main thread
 * fighting for the CPU, and re-read ~330 MB the main thread had read already.
 */
import { createHash } from 'node:crypto'
import { Worker } from 'node:worker_threads'

/** Below this, a worker's start-up costs more than hashing inline. */
export const WORKER_HASH_MIN_BYTES = 8 * 2 ** 20

// Plain CommonJS evaluated in the worker: no build step, and it runs the same under tsx and dist/.
// Jobs run synchronously one at a time, so they finish in the order they were posted and a job
// never waits on the main thread (which may be busy parsing for hundreds of milliseconds).
// Reads into shared memory are 16 MiB (syscalls then cost nothing); a file that is only hashed
// goes through a 1 MiB buffer that stays in cache between the copy and the hash (measured ~30 ms
// less system time on 277 MB than 16 MiB steps).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { openSync, readSync, closeSync } = require('node:fs')
const READ_STEP = 16 * 1024 * 1024
const HASH_STEP = 1024 * 1024
function readInto (path, view) {
  const fd = openSync(path, 'r')
  try {
    let pos = 0
    while (pos < view.length) {
      const n = readSync(fd, view, pos, Math.min(READ_STEP, view.length - pos), pos)
      if (n === 0) break
      pos += n
    }
    return pos
  } finally { closeSync(fd) }
}
function hashFile (path) {
  const hash = createHash('sha256')
  const buf = Buffer.allocUnsafe(HASH_STEP)
  const fd = openSync(path, 'r')
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, HASH_STEP, null)
      if (n === 0) break
      hash.update(n === HASH_STEP ? buf : buf.subarray(0, n))
    }
  } finally { closeSync(fd) }
  return hash.digest('hex')
}
parentPort.on('message', (job) => {
  try {
    if (job.op === 'read') {
      const view = new Uint8Array(job.sab)
      const got = readInto(job.path, view)
      parentPort.postMessage({ id: job.id, read: got })
      if (got < view.length) return
      parentPort.postMessage({ id: job.id, digest: createHash('sha256').update(view).digest('hex') })
    } else if (job.op === 'hash') {
      parentPort.postMessage({ id: job.id, digest: createHash('sha256').update(new Uint8Array(job.sab, job.offset, job.length)).digest('hex') })
    } else {
      parentPort.postMessage({ id: job.id, digest: hashFile(job.path) })
    }
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: err.message })
  }
})
`

export function sha256Bytes (data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Thrown (as the `bytes` rejection) when a file ended before its expected size. */
export class ShortReadError extends Error {
  override name = 'ShortReadError'
  constructor (readonly bytesRead: number, readonly expected: number) {
    super(`ended after ${bytesRead} of ${expected} bytes (changed while loading?)`)
  }
}

/** A Buffer over fresh shared memory, which the hashing worker can read without a copy. */
export function sharedBuffer (size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size))
}

interface Job {
  /** For a read job: told the bytes read (or -1 when the worker failed), once. */
  onRead?: (bytesRead: number, err?: Error) => void
  size?: number
  resolve: (digest: string) => void
  reject: (err: Error) => void
}

interface WorkerReply { id: number, read?: number, digest?: string, error?: string }

/**
 * The one hashing worker of a load. Every method returns at once; the worker runs the jobs in
 * the order they were given. `close` ends the thread and rejects whatever is still pending.
 */
export class HashWorker {
  private readonly worker: Worker
  private readonly jobs = new Map<number, Job>()
  private nextId = 0
  private failure: Error | null = null

  constructor () {
    this.worker = new Worker(WORKER_SOURCE, { eval: true })
    this.worker.on('message', (msg: WorkerReply) => {
      const job = this.jobs.get(msg.id)
      if (!job) return
      if (msg.read !== undefined) {
        const onRead = job.onRead
        job.onRead = undefined
        onRead?.(msg.read)
        // A short read ends the job: the worker sends no digest for it.
        if (msg.read !== job.size) {
          this.jobs.delete(msg.id)
          job.reject(new ShortReadError(msg.read, job.size ?? 0))
        }
        return
      }
      this.jobs.delete(msg.id)
      if (msg.digest !== undefined) job.resolve(msg.digest)
      else {
        const err = new Error(msg.error ?? 'hash worker failed')
        job.onRead?.(-1, err)
        job.reject(err)
      }
    })
    this.worker.on('error', (err) => this.failAll(err))
    this.worker.on('exit', () => this.failAll(new Error('hash worker exited')))
  }

  private failAll (err: Error): void {
    this.failure ??= err
    for (const job of this.jobs.values()) {
      job.onRead?.(-1, err)
      job.reject(err)
    }
    this.jobs.clear()
  }

  private post (message: Record<string, unknown>, job: Job): void {
    if (this.failure) {
      job.onRead?.(-1, this.failure)
      job.reject(this.failure)
      return
    }
    const id = this.nextId++
    this.jobs.set(id, job)
    this.worker.postMessage({ ...message, id })
  }

  /**
   * Reads a file of `size` bytes into shared memory and hashes it there. `bytes` resolves as soon
   * as the file is read, before it is hashed, so the main thread can use the bytes meanwhile. A
   * file shorter than `size` rejects both with ShortReadError.
   */
  readAndHash (path: string, size: number): { bytes: Promise<Buffer>, digest: Promise<string> } {
    const sab = new SharedArrayBuffer(size)
    let settleBytes!: (bytesRead: number, err?: Error) => void
    const bytes = new Promise<Buffer>((resolve, reject) => {
      settleBytes = (got, err) => {
        if (got === size) resolve(Buffer.from(sab))
        else reject(err ?? new ShortReadError(got, size))
      }
    })
    const digest = new Promise<string>((resolve, reject) => {
      this.post({ op: 'read', path, sab }, { onRead: settleBytes, size, resolve, reject })
    })
    return { bytes, digest }
  }

  /** Hashes bytes already in shared memory (see sharedBuffer); other bytes are hashed inline. */
  hashShared (bytes: Uint8Array): Promise<string> {
    if (!(bytes.buffer instanceof SharedArrayBuffer)) return Promise.resolve(sha256Bytes(bytes))
    return new Promise((resolve, reject) => this.post({ op: 'hash', sab: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength }, { resolve, reject }))
  }

  /** Reads and hashes a file the main thread never reads (items.hnsw, which hnswlib reads itself). */
  hashFile (path: string): Promise<string> {
    return new Promise((resolve, reject) => this.post({ op: 'file', path }, { resolve, reject }))
  }

  async close (): Promise<void> {
    this.failure ??= new Error('hash worker closed')
    await this.worker.terminate()
  }
}
