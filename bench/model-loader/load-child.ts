/**
 * One measurement in a fresh process, so page cache is the only thing runs share:
 *   read <dir>  - time to read every bundle file into memory (the floor for any loader)
 *   load <dir>  - time for loadModel (read + validate + checksums + index), and resident memory
 */
import { readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { loadModel } from '../../src/model-loader/load-bundle.js'

const [mode, dir] = process.argv.slice(2)
if (!dir || (mode !== 'read' && mode !== 'load')) {
  console.error('usage: load-child.ts read|load <bundle dir>')
  process.exit(2)
}
const before = process.memoryUsage().rss
const t0 = performance.now()
if (mode === 'read') {
  let bytes = 0
  // readFileSync: the fastest plain read Node offers, so the ratio is against a strict floor.
  for (const name of await readdir(dir)) bytes += readFileSync(join(dir, name)).byteLength
  process.stdout.write(JSON.stringify({ mode, ms: performance.now() - t0, bytes }) + '\n')
} else {
  const model = await loadModel(dir)
  const ms = performance.now() - t0
  const rss = process.memoryUsage().rss
  process.stdout.write(JSON.stringify({ mode, ms, rssBefore: before, rssAfter: rss, items: model.items.size, hnsw: model.hnsw?.source, zeroCopy: model.stats.zeroCopyTensors, copied: model.stats.copiedTensors, phases: model.stats.phasesMs }) + '\n')
}
