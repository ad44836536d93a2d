import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'yaml'
import { z } from 'zod'

// Grafana and Prometheus do not run here: their files are checked for the structure they load
// (Grafana's dashboard model, Prometheus' rule file format); metric names are checked against a
// live /metrics in metrics-names.test.ts.
const GridPos = z.object({ h: z.number().int().min(1), w: z.number().int().min(1).max(24), x: z.number().int().min(0).max(23), y: z.number().int().min(0) }).strict()
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }
const Panel = z.object({
  id: z.number().int(),
  type: z.enum(['row', 'timeseries', 'table', 'stat']),
  title: z.string().min(1),
  gridPos: GridPos,
}).passthrough()

test('the dashboard\'s panels have unique ids, fit the 24-column grid without overlapping, and query the chosen data source', () => {
  const dash = JSON.parse(readFileSync('deploy/grafana/hashrec.json', 'utf8')) as { panels: unknown[], uid: string, schemaVersion: number }
  const panels = dash.panels.map((p) => Panel.parse(p))
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length)
  const cells = new Map<string, string>()
  for (const p of panels) {
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} is wider than the grid`)
    for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        const other = cells.get(`${x},${y}`)
        assert.equal(other, undefined, `${p.title} overlaps ${other}`)
        cells.set(`${x},${y}`, p.title)
      }
    }
    if (p.type === 'row') continue
    const q = p as unknown as { datasource: unknown, description?: string, targets: { refId: string, datasource: unknown }[] }
    assert.deepEqual(q.datasource, DATASOURCE, p.title)
    assert.ok(q.description && q.description.length > 20, `${p.title} says what it shows`)
    assert.equal(new Set(q.targets.map((t) => t.refId)).size, q.targets.length, `${p.title}: refIds are unique`)
    for (const t of q.targets) assert.deepEqual(t.datasource, DATASOURCE, p.title)
  }
  // What an operator needs the dashboard to show, by panel title.
  const titles = panels.map((p) => p.title.toLowerCase()).join('\n')
  for (const topic of ['request rate', 'latency', 'shed', 'error', 'cache hit', 'degraded', 'model version', 'reload', 'event ingest', 'event-loop delay', 'resident memory']) {
    assert.ok(titles.includes(topic), `a panel on ${topic}`)
  }
})

const Rule = z.object({
  alert: z.string().regex(/^Hashrec[A-Z]\w+$/),
  expr: z.string().min(1),
  for: z.string().regex(/^\d+[smh]$/).optional(),
  labels: z.object({ severity: z.enum(['warning', 'critical']) }).strict(),
  annotations: z.object({ summary: z.string().min(1), description: z.string().min(20) }).strict(),
}).strict()
const RuleFile = z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(Rule).min(1) }).strict()).min(1) }).strict()

test('the alert rules are a valid rule file and cover what an operator must hear about', () => {
  const file = RuleFile.parse(parse(readFileSync('deploy/prometheus/alerts.yaml', 'utf8')))
  const names = file.groups.flatMap((g) => g.rules.map((r) => r.alert))
  assert.equal(new Set(names).size, names.length)
  for (const needed of ['HashrecHighLatencyP99', 'HashrecShedding', 'HashrecDegradedAnswers', 'HashrecReadinessFlapping', 'HashrecReloadFailed', 'HashrecRedisUnavailable', 'HashrecReplicaDown']) {
    assert.ok(names.includes(needed), needed)
  }
  // Template references in annotations use labels the expression keeps: an aggregation keeps only
  // its `by` labels.
  for (const r of file.groups.flatMap((g) => g.rules)) {
    if (!/\b(sum|count|max|min|avg)\b/.test(r.expr)) continue
    for (const [, label] of `${r.annotations.summary} ${r.annotations.description}`.matchAll(/\$labels\.(\w+)/g)) {
      assert.ok(new RegExp(`\\b${label}\\b`).test(r.expr), `${r.alert}: annotation uses $labels.${label}, which its expression does not keep`)
    }
  }
})
