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
