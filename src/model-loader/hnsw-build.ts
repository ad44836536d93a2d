/**
 * Builds a bundle's missing HNSW index off the event loop: a worker thread builds it and writes
 * it to a private temporary file, which is then validated and read like a prebuilt items.hnsw
 * (hnswlib-node reads on libuv's pool). A reload of a bundle without items.hnsw thus keeps the
 * previous model serving, /healthz included, while the index builds.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HnswConfig } from '../bundle-format/manifest.js'
import { createModuleWorker } from '../worker-module.js'
import type { HnswBuildInput } from './hnsw-index.js'

export interface HnswBuildJob {
  readonly vectors: Float32Array
  readonly count: number
  readonly dimension: number
  readonly bias: Float32Array | null
  readonly config: HnswConfig
  readonly path: string
}

export type HnswBuildReport = { readonly ok: true, readonly maxNorm: number, readonly buildMs: number } | { readonly ok: false, readonly error: string }

/** A copy in shared memory: the worker reads it in place, and a view of a larger buffer (the tensors file) is not cloned whole. */
function shared (values: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(values.byteLength))
  out.set(values)
  return out
}

/**
 * Builds the index in a worker thread and hands `use` the path of the written file; the file and
 * its directory are removed once `use` settles.
 */
export async function buildHnswIndexInWorker<T> (input: HnswBuildInput, config: HnswConfig, use: (path: string, report: { maxNorm: number, buildMs: number }) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'hashrec-hnsw-'))
  try {
    const path = join(dir, 'items.hnsw')
    const job: HnswBuildJob = { vectors: shared(input.vectors.subarray(0, input.count * input.dimension)), count: input.count, dimension: input.dimension, bias: input.bias && shared(input.bias), config, path }
    const worker = createModuleWorker(import.meta.url, 'hnsw-build-worker', { workerData: job })
    let report: HnswBuildReport
    try {
      report = await new Promise<HnswBuildReport>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.once('exit', (code) => reject(new Error(`the HNSW build worker exited (code ${code}) without a report`)))
      })
    } finally {
      await worker.terminate()
    }
    if (!report.ok) throw new Error(`building the HNSW index failed: ${report.error}`)
    return await use(path, report)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
