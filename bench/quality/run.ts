/**
 * `npm run bench:quality -- --data <dir>`: quality per byte on public data. A folder with
 * train.csv + test.csv (the LightGCN Gowalla split, ../shared/data/gowalla) is trained on train.csv
 * and evaluated on test.csv (`--test`); a folder with ratings.csv (ml-latest-small) on the per-user
 * time split. The trainer runs with --frontier (every mapping at every budget, the full model, codes)
 * and the default --budget auto; then the served bundle is loaded into the app and every evaluated
 * user's top 20 is asked over the REST API, scored the same way, and compared with the full model.
 *
 * --tune first picks alpha and reg on a validation split carved out of the training file (its
 * latest 20% per user; file order when there are no timestamps), never on the test file.
 */
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_TRAINER_OPTIONS, runTrainer, type TrainerOptions } from '../../src/trainer/pipeline.js'
import { reportMarkdown } from '../../src/trainer/report.js'
import { apiRecall } from './api-recall.js'

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/ml-latest-small' },
    out: { type: 'string', default: '.bench-tmp/quality' },
    threads: { type: 'string', default: String(DEFAULT_TRAINER_OPTIONS.threads) },
    alpha: { type: 'string' },
    reg: { type: 'string' },
    tune: { type: 'boolean', default: false },
    scope: { type: 'string', default: 'all' },
    'eval-users': { type: 'string', default: '1000000' },
    'skip-api': { type: 'boolean', default: false },
  },
})
const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }
const dir = values.data
const given = existsSync(join(dir, 'train.csv')) && existsSync(join(dir, 'test.csv'))
const input = given ? join(dir, 'train.csv') : join(dir, 'ratings.csv')
const name = dir.replace(/\/+$/, '').split('/').pop()!
const outDir = join(values.out, name)
await mkdir(outDir, { recursive: true })
const base: TrainerOptions = {
  ...DEFAULT_TRAINER_OPTIONS,
  input,
  out: join(outDir, 'bundle'),
  ...(!given && existsSync(join(dir, 'movies.csv')) ? { items: join(dir, 'movies.csv') } : {}),
  threads: Number(values.threads),
  evalUsers: Number(values['eval-users']),
  deepRetrieval: false,
  log,
}

/** The full model's validation Recall@20 for each (alpha, reg) of a small grid, on the training file's own time split. */
async function tune (): Promise<{ alpha: number, reg: number }> {
  const grid = [[2, 0.002], [10, 0.005], [20, 0.01], [50, 0.02], [100, 0.05]]
  let best = { alpha: base.alpha as number, reg: base.reg as number, recall: -1 }
  for (const [alpha, reg] of grid) {
    const { report } = await runTrainer({ ...base, out: join(outDir, 'tune'), alpha, reg, budget: 1, userVectors: 'stored', dtype: 'F32', scope: 'served', refit: false, log: () => {} })
    const r = report.variants.find((v) => v.name === report.served)!.recall
    process.stdout.write(`tune: alpha ${alpha} reg ${reg}: validation Recall@20 ${r.toFixed(4)}\n`)
    if (r > best.recall) best = { alpha, reg, recall: r }
  }
  return best
}

const hp = values.tune ? await tune() : { alpha: Number(values.alpha ?? base.alpha), reg: Number(values.reg ?? base.reg) }
const t0 = performance.now()
const cpu0 = process.cpuUsage()
// On a time split the served model answers the API check only unrefit: a refit model has seen (and excludes) the test items.
const { report, timings } = await runTrainer({ ...base, ...hp, refit: false, scope: values.scope as TrainerOptions['scope'], ...(given ? { test: join(dir, 'test.csv') } : {}) })
const wall = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const md = reportMarkdown(report)
await writeFile(join(outDir, 'eval.md'), md)
process.stdout.write(`\n## ${name}: alpha ${hp.alpha}, reg ${hp.reg}, scope ${values.scope}\n\n${md}\nwall ${(wall / 1000).toFixed(1)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, stages (ms) ${JSON.stringify(timings)}\n`)
if (!values['skip-api']) {
  const full = report.variants.find((v) => v.kind === 'full')
  const api = await apiRecall(base.out, input, given ? join(dir, 'test.csv') : null, Number(values['eval-users']), base.seed)
  process.stdout.write(`\nthrough the REST API (GET /v1/users/:id/recommendations?k=20, ${api.users} users, ${api.method}): Recall@20 ${api.recall.toFixed(4)} NDCG@20 ${api.ndcg.toFixed(4)}${full ? `, ${(api.recall / full.recall).toFixed(3)}x the full model's Recall@20` : ''}; ${api.ms.toFixed(0)} ms\n`)
}
