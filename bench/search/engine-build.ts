/**
 * Building a model's engines, as a reload does: in one piece against in the background (slices
 * that yield), wall time until ready and the longest event-loop gap meanwhile (a 1 ms timer), so
 * what a swap costs the requests being served is measured, not guessed. Also the longest gap
 * during the bundle load itself, for comparison.
 *
 *   npm run bench:engines -- [--bundle .bench-tmp/load-1000000-100000/bundle] [--runs 3]
 *
 * The default bundle is the one `npm run bench:load` writes (1M items); models/default works too.
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { createModelEngines } from '../../src/search/engines.js'

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: '.bench-tmp/load-1000000-100000/bundle' },
    runs: { type: 'string', default: '3' },
  },
})

let longest = 0
let last = performance.now()
const timer = setInterval(() => { const now = performance.now(); longest = Math.max(longest, now - last); last = now }, 1)
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50))
const reset = (): void => { longest = 0; last = performance.now() }

await settle()
reset()
const loadStart = performance.now()
const model = await loadModel(values.bundle)
const loadMs = performance.now() - loadStart
const loadGap = longest
console.log(`${values.bundle}: ${model.items.size} items x ${model.dimension}, ${model.codeBits}-bit codes; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
console.log(`loadModel: ${loadMs.toFixed(0)} ms, longest event-loop gap ${loadGap.toFixed(1)} ms\n`)
console.log('| engines build | run | until ready, ms | returned after, ms | longest event-loop gap, ms |')
console.log('|---|---:|---:|---:|---:|')
for (let run = 1; run <= Number(values.runs); run++) {
  for (const backgroundBuild of [false, true]) {
    await settle()
    reset()
    const t0 = performance.now()
    const engines = createModelEngines(model, { backgroundBuild })
    const returned = performance.now() - t0
    await engines.whenReady
    const ready = performance.now() - t0
    console.log(`| ${backgroundBuild ? 'background (slices)' : 'one piece (tables), int8 copy in slices'} | ${run} | ${ready.toFixed(0)} | ${returned.toFixed(0)} | ${longest.toFixed(1)} |`)
  }
}
clearInterval(timer)
