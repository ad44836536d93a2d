import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'
import { deletePrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { familyOf, parseExposition } from './exposition.js'
import { parseLabelValuesQuery, parsePromql, substituteGrafana, type ParsedExpr } from './promql.js'
import { startService } from './service.js'

interface Query { readonly where: string, readonly parsed: ParsedExpr }

/** Every PromQL expression of the Grafana dashboard: panel targets and template variable queries. */
function dashboardQueries (): Query[] {
  const dash = JSON.parse(readFileSync('deploy/grafana/hashrec.json', 'utf8')) as {
    panels: { title: string, type: string, targets?: { expr: string }[] }[]
    templating: { list: { name: string, type: string, query: string | { query: string } }[] }
  }
  const out: Query[] = []
  for (const p of dash.panels) {
    if (p.type === 'row') continue
    assert.ok(p.targets && p.targets.length > 0, `panel "${p.title}" has no query`)
    for (const target of p.targets) out.push({ where: `panel "${p.title}"`, parsed: parsePromql(substituteGrafana(target.expr)) })
  }
  for (const v of dash.templating.list.filter((x) => x.type === 'query')) {
    out.push({ where: `variable ${v.name}`, parsed: parseLabelValuesQuery(typeof v.query === 'string' ? v.query : v.query.query) })
  }
  return out
}

/** Every alert expression of deploy/prometheus/alerts.yaml. */
function alertQueries (): Query[] {
  const rules = parse(readFileSync('deploy/prometheus/alerts.yaml', 'utf8')) as { groups: { rules: { alert: string, expr: string }[] }[] }
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, parsed: parsePromql(r.expr) })))
}

// Series that Prometheus makes itself for every target, and the labels it adds to every series.
const SYNTHETIC_METRICS = new Set(['up'])
const TARGET_LABELS = new Set(['job', 'instance'])

test('the dashboard and alert expressions parse as PromQL and read at least one series each', () => {
  const all = [...dashboardQueries(), ...alertQueries()]
  assert.ok(all.length >= 25)
  for (const q of all) {
    assert.deepEqual(q.parsed.errors, [], `${q.where}: syntax errors`)
    assert.ok(q.parsed.selectors.length > 0, `${q.where}: reads no series`)
  }
})

test('every metric and label the dashboard and the alerts name is on a running service\'s /metrics', async (t) => {
  const redis = await testRedisUrl()
  if (redis === null) { t.skip('no Redis server available'); return }
  const prefix = uniquePrefix()
  const { dir, cleanup } = await tempDir()
  t.after(async () => { await deletePrefix(redis.url, prefix); await cleanup() })
  await writeTestBundle(join(dir, 'm'), { items: 300, users: 40, seen: true, popularity: true })
  const svc = await startService(t, {
    WORKERS: '1', MODEL_DIR: join(dir, 'm'), MODELS_ROOT: dir, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix,
    ADMIN_TOKEN: 'a-test-admin-token-0123', WARM_UP_USERS: '10',
    // A busy machine must not turn Redis calls into timeouts (degraded answers) or shed requests.
    REDIS_TIMEOUT_MS: '2000', MAX_EVENT_LOOP_DELAY_MS: '0',
  })

  // Traffic that makes the labelled series exist: every method, both caches, events accepted and
  // rejected, a refused reload, probes.
  const get = async (path: string): Promise<void> => { (await fetch(svc.base + path)).body?.cancel() }
  for (const method of ['hybrid', 'hamming', 'mips']) for (const u of ['u1', 'u2', 'u1', 'someone-new']) await get(`/v1/users/${u}/recommendations?k=5&method=${method}`)
  await get('/v1/items/i3/similar?k=5')
  await get('/v1/items/i3/similar?k=5')
  await get('/readyz')
  const events = await fetch(`${svc.base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [{ userId: 'u1', itemId: 'i7', type: 'click' }, { userId: 'u1', itemId: 'no-such-item', type: 'click' }] }) })
  assert.equal(events.status, 202)
  const reload = await fetch(`${svc.base}/admin/model/reload`, { method: 'POST', headers: { authorization: 'Bearer a-test-admin-token-0123', 'content-type': 'application/json' }, body: JSON.stringify({ dir: 'missing' }) })
  assert.equal(reload.status >= 400 && reload.status < 500, true, `reload of a missing bundle: ${reload.status}`)

  const families = parseExposition(await (await fetch(`${svc.base}/metrics`)).text())
  const withoutSamples = new Set<string>()
  for (const q of [...dashboardQueries(), ...alertQueries()]) {
    for (const s of q.parsed.selectors) {
      if (SYNTHETIC_METRICS.has(s.metric)) continue
      const family = familyOf(families, s.metric)
      assert.ok(family, `${q.where}: ${s.metric} is not on /metrics`)
      const labels = s.labels.filter((l) => !TARGET_LABELS.has(l) && l !== '__name__')
      if (family.samples === 0) { withoutSamples.add(s.metric); continue }
      for (const l of labels) assert.ok(family.labels.has(l), `${q.where}: ${s.metric} has no label ${l} (it has ${[...family.labels].join(', ') || 'none'})`)
    }
  }
  // Only load shedding and Redis failures are not provoked here, so their counters may be declared
  // without samples, and then their label names cannot be read back (the dashboard and alerts
  // match no label of theirs; test/app/pressure.test.ts and redis-outage.test.ts exercise them).
  // Every other series the files read exists with samples.
  const unprovoked = new Set(['hashrec_shed_requests_total', 'hashrec_state_degraded_total'])
  assert.deepEqual([...withoutSamples].filter((m) => !unprovoked.has(m)), [])
})
