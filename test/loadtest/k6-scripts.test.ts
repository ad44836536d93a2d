import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'

// k6 is not installable on these machines: the scenarios are checked for syntax and for imports
// k6 can resolve (its own modules and lib.js), and the ids script against a real bundle.
const dir = 'loadtest/k6'
const scripts = readdirSync(dir).filter((f) => f.endsWith('.js'))

test('every k6 scenario parses and imports only k6 modules and ./lib.js', () => {
  assert.deepEqual(scripts.sort(), ['lib.js', 'load.js', 'smoke.js', 'soak.js', 'spike.js'])
  for (const f of scripts) {
    const check = spawnSync(process.execPath, ['--check', join(dir, f)], { encoding: 'utf8' })
    assert.equal(check.status, 0, `${f}: ${check.stderr}`)
    for (const [, spec] of readFileSync(join(dir, f), 'utf8').matchAll(/^import .* from '([^']+)'/gm)) {
      assert.ok(spec === './lib.js' || spec === 'k6' || spec.startsWith('k6/'), `${f} imports ${spec}`)
    }
  }
})

/** A k6 duration ('1m', '140s', '3m35s') in seconds. */
function seconds (d: string): number {
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)]
  assert.ok(parts.length > 0 && parts.map((p) => p[0]).join('') === d, `not a k6 duration: ${d}`)
  return parts.reduce((acc, [, n, unit]) => acc + Number(n) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1), 0)
}

interface Scenario { startTime?: string, duration?: string, stages?: { duration: string }[] }
interface K6Options { duration?: string, scenarios?: Record<string, Scenario>, thresholds?: Record<string, string[]> }

/** Evaluates a scenario with stand-ins for k6's modules (k6-stubs.mjs): its options and custom metrics. */
function loadScenario (file: string): { options: K6Options, metrics: string[] } {
  const run = spawnSync(process.execPath, ['--import', './test/loadtest/k6-stubs.mjs', '--input-type=module', '-e',
    `const m = await import('./${dir}/${file}'); console.log(JSON.stringify({ options: m.options, metrics: globalThis.__k6.metrics.map((x) => x.name) }))`], { encoding: 'utf8' })
  assert.equal(run.status, 0, `${file}: ${run.stderr}`)
  return JSON.parse(run.stdout) as { options: K6Options, metrics: string[] }
}

function totalSeconds (o: K6Options): number {
  if (o.scenarios === undefined) return seconds(o.duration ?? '0s')
  return Math.max(...Object.values(o.scenarios).map((s) => seconds(s.startTime ?? '0s') +
    (s.stages ? s.stages.reduce((acc, st) => acc + seconds(st.duration), 0) : seconds(s.duration ?? '0s'))))
}

// k6's own metrics that the thresholds may name (https://grafana.com/docs/k6/latest/using-k6/metrics/reference/).
const BUILTIN_METRICS = new Set(['http_req_failed', 'http_req_duration', 'checks', 'iterations', 'http_reqs'])

test('every scenario runs as long as its header comment says, and its thresholds name metrics and scenarios it has', () => {
  for (const file of scripts.filter((f) => f !== 'lib.js')) {
    const { options, metrics } = loadScenario(file)
    const header = readFileSync(join(dir, file), 'utf8').split('\n')[0]
    const stated = /\(default duration (\w+)/.exec(header)
    assert.ok(stated, `${file}: the first line states the default duration: ${header}`)
    assert.equal(totalSeconds(options), seconds(stated[1]), `${file}: runs ${totalSeconds(options)} s, its comment says ${stated[1]}`)
    const known = new Set([...BUILTIN_METRICS, ...metrics])
    for (const key of Object.keys(options.thresholds ?? {})) {
      const [, metric, tags] = /^([a-z_]+)(?:\{(.*)\})?$/.exec(key) ?? []
      assert.ok(metric !== undefined && known.has(metric), `${file}: threshold on an unknown metric: ${key}`)
      const scenario = /scenario:([\w-]+)/.exec(tags ?? '')
      if (scenario) assert.ok(options.scenarios?.[scenario[1]], `${file}: threshold on an unknown scenario: ${key}`)
    }
  }
})

test('the spike judges served latency and shedding apart, and recovery after the spike on its own', () => {
  const { options } = loadScenario('spike.js')
  const t = options.thresholds ?? {}
  const s = options.scenarios ?? {}
  // Recovery starts after the spike has ended plus the settling time, and has its own thresholds.
  const spikeEnd = seconds(s.spike.startTime ?? '0s') + (s.spike.stages ?? []).reduce((acc, st) => acc + seconds(st.duration), 0)
  assert.equal(seconds(s.recovery.startTime ?? '0s'), spikeEnd + 15)
  assert.ok(t['served_duration{scenario:recovery}']?.some((x) => x.startsWith('p(99)<')))
  assert.deepEqual(t['shed_answers{scenario:recovery}'], ['rate<0.01'])
  // The spike's latency threshold is over served answers only: no threshold on http_req_duration.
  assert.ok(t['served_duration{scenario:spike}'])
  assert.equal(Object.keys(t).some((k) => k.startsWith('http_req_duration')), false)
})

test('npm run loadtest:ids writes the users and items of a bundle for the scenarios', async (t) => {
  const { dir: tmp, cleanup } = await tempDir()
  t.after(cleanup)
  await writeTestBundle(join(tmp, 'b'), { items: 12, users: 4 })
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/k6-ids.ts', join(tmp, 'b'), '--max', '3'], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  assert.deepEqual(JSON.parse(run.stdout), { users: ['u0', 'u1', 'u2'], items: ['i0', 'i1', 'i2'] })
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/k6-ids.ts', join(tmp, 'missing')], { encoding: 'utf8' })
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /cannot read ids from .*manifest\.json/)
})
