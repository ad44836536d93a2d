/**
 * Worker side of buildHnswIndexInWorker (hnsw-build.ts): builds the index over the item vectors it
 * is given, writes it to the path it is given, and reports. hnswlib's addPoint runs synchronously
 * in the calling thread (20k items x 64 dimensions: ~25 s on a busy 2-core machine), so in the
 * serving thread it held every request, /healthz included, for the whole build.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { buildHnswIndex } from './hnsw-index.js'
import type { HnswBuildJob, HnswBuildReport } from './hnsw-build.js'

if (parentPort === null) throw new Error('hnsw-build-worker must run in a worker thread')
const port = parentPort
const job = workerData as HnswBuildJob
const started = performance.now()
try {
  const built = buildHnswIndex({ vectors: job.vectors, count: job.count, dimension: job.dimension, bias: job.bias }, job.config)
  await built.index.writeIndex(job.path)
  port.postMessage({ ok: true, maxNorm: built.maxNorm, buildMs: performance.now() - started } satisfies HnswBuildReport)
} catch (err) {
  port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) } satisfies HnswBuildReport)
}
