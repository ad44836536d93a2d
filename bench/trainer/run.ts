/**
 * `npm run bench:train [-- --threads 2 --runs 1 --refit]`: the full report on ml-latest-small
 * (every variant the report compares) with wall and CPU time, for BENCHMARKS.md. With --runs > 1 it repeats
 * the run (different output dirs) and prints the spread of each variant's Recall@10, the
 * multi-thread tolerance.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_TRAINER_OPTIONS, runTrainer } from '../../src/trainer/pipeline.js'
import { reportMarkdown } from '../../src/trainer/report.js'

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: String(DEFAULT_TRAINER_OPTIONS.threads) },
    runs: { type: 'string', default: '1' },
    seed: { type: 'string', default: String(DEFAULT_TRAINER_OPTIONS.seed) },
    refit: { type: 'boolean', default: false },
    data: { type: 'string', default: 'data/ml-latest-small' },
  },
})
const runs = Number(values.runs)
const recalls = new Map<string, number[]>()
for (let run = 0; run < runs; run++) {
  const out = await mkdtemp(join(tmpdir(), 'hashrec-bench-train-'))
  try {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const { report, timings } = await runTrainer({
      ...DEFAULT_TRAINER_OPTIONS,
      input: join(values.data, 'ratings.csv'),
      items: join(values.data, 'movies.csv'),
      out: join(out, 'bundle'),
      threads: Number(values.threads),
      seed: Number(values.seed),
      refit: values.refit,
      log: (msg) => process.stderr.write(`${msg}\n`),
    })
    const wall = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    process.stdout.write(`\n## run ${run + 1}/${runs}: threads ${values.threads}, seed ${values.seed}${values.refit ? ', refit' : ''}\n\n`)
    process.stdout.write(reportMarkdown(report))
    process.stdout.write(`\nwall ${(wall / 1000).toFixed(1)} s, process CPU (all threads) ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; stages (ms): ${JSON.stringify(timings)}\n`)
    for (const v of report.variants) recalls.set(v.name, [...(recalls.get(v.name) ?? []), v.recall])
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}
if (runs > 1) {
  process.stdout.write(`\n## Recall@10 spread over ${runs} runs (threads ${values.threads})\n\n| variant | min | max | max - min |\n|---|---:|---:|---:|\n`)
  for (const [name, r] of recalls) process.stdout.write(`| ${name} | ${Math.min(...r).toFixed(4)} | ${Math.max(...r).toFixed(4)} | ${(Math.max(...r) - Math.min(...r)).toFixed(4)} |\n`)
}
