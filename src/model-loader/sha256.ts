/**
 * SHA-256 of bundle files. Large files are hashed in a worker thread so checksums run on the
 * second core while the main thread parses and validates the same bytes (measured on a 1M-item
 * bundle: hashing ~700 MB inline cost more than the rest of the load put together).
 */
import { createHash } from 'node:crypto'
import { Worker } from 'node:worker_threads'

/** Below this, a worker's start-up costs more than hashing inline. */
export const WORKER_HASH_MIN_BYTES = 8 * 2 ** 20

// Plain CommonJS evaluated in the worker: no build step, and it runs the same under tsx and dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { createReadStream } = require('node:fs')
const hash = createHash('sha256')
createReadStream(workerData.path, { highWaterMark: 1 << 20 })
  .on('data', (chunk) => hash.update(chunk))
  .on('end', () => parentPort.postMessage({ digest: hash.digest('hex') }))
  .on('error', (err) => parentPort.postMessage({ error: err.message }))
`

export function sha256Bytes (data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

export function sha256FileInWorker (path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path } })
    worker.once('message', (msg: { digest?: string, error?: string }) => {
      void worker.terminate()
      if (msg.digest) resolve(msg.digest)
      else reject(new Error(msg.error ?? 'hash worker failed'))
    })
    worker.once('error', reject)
  })
}
