/**
 * Times the id-list parse alone on a bundle's items.jsonl (the `ids` phase of loadModel), so a
 * change to the scanner is measured without the rest of the load's noise.
 *   node --import tsx bench/model-loader/ids-only.ts <bundle dir> [repeats]
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { JsonlIdIndex } from '../../src/model-loader/id-index.js'

const [dir, repeatsArg] = process.argv.slice(2)
if (!dir) {
  console.error('usage: ids-only.ts <bundle dir> [repeats]')
  process.exit(2)
}
const bytes = readFileSync(join(dir, 'items.jsonl'))
const lines = bytes.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0)
const limits = { maxIdBytes: 256, maxTitleBytes: 4096, maxTagBytes: 256, maxTags: 100 }
const times: number[] = []
const cpu: number[] = []
for (let r = 0; r < Number(repeatsArg ?? 5); r++) {
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  new JsonlIdIndex(bytes, lines, true, limits)
  const c = process.cpuUsage(c0)
  times.push(performance.now() - t0)
  cpu.push((c.user + c.system) / 1000)
}
// CPU time as well as wall time: on a shared machine the wall time mostly measures the neighbours.
console.log(JSON.stringify({ lines, ms: times.map((t) => Math.round(t)), cpuMs: cpu.map((t) => Math.round(t)) }))
