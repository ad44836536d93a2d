import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { z } from 'zod'
import { loadConfig } from '../../src/config.js'

// No Docker engine (nor the compose plugin) runs where the tests run, so the stack is checked as
// files: the part of the compose specification it uses, strictly (a misspelt key fails), then
// every reference between the files.
const DEPLOY = 'deploy'
const Duration = z.string().regex(/^(\d+(h|m|s|ms))+$/)
const Service = z.object({
  build: z.object({ context: z.string(), dockerfile: z.string() }).strict().optional(),
  image: z.string().regex(/^[\w./-]+:[\w.-]+$/, 'an image with a pinned tag'),
  command: z.array(z.string()).optional(),
  deploy: z.object({
    replicas: z.number().int().min(1),
    resources: z.object({ limits: z.object({ cpus: z.string(), memory: z.string().regex(/^\d+[KMG]$/) }).strict() }).strict(),
  }).strict().optional(),
  environment: z.record(z.string(), z.string()).optional(),
  ports: z.array(z.string().regex(/^127\.0\.0\.1:\d+:\d+$/, 'published on the loopback address only')).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()), interval: Duration, timeout: Duration, retries: z.number().int() }).strict().optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy']) }).strict())]).optional(),
  stop_grace_period: Duration.optional(),
  restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
}).strict()
const Compose = z.object({
  name: z.string(),
  services: z.record(z.string(), Service),
  volumes: z.record(z.string(), z.null()),
}).strict()
type Compose = z.infer<typeof Compose>

function load (): Compose {
  return Compose.parse(parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8')))
}

function seconds (d: string): number {
  return [...d.matchAll(/(\d+)(h|ms|m|s)/g)].reduce((acc, [, n, u]) => acc + Number(n) * ({ h: 3600, m: 60, s: 1, ms: 0.001 } as Record<string, number>)[u], 0)
}

/** A compose volume entry: a named volume or a file or folder beside compose.yaml, mounted at target. */
function mounts (c: Compose, service: string): { source: string, target: string, named: boolean }[] {
  return (c.services[service].volumes ?? []).map((v) => {
    const [source, target] = v.split(':')
    return { source, target, named: !source.startsWith('.') && !source.startsWith('/') }
  })
}

test('the compose stack has two hashrec replicas behind nginx, Redis, Prometheus and Grafana, with pinned images', () => {
  const c = load()
  assert.deepEqual(Object.keys(c.services).sort(), ['grafana', 'hashrec', 'nginx', 'prometheus', 'redis'])
  assert.equal(c.services.hashrec.deploy?.replicas, 2)
  assert.equal(c.services.hashrec.ports, undefined, 'replicas are reached through nginx only')
  assert.equal(c.services.hashrec.environment?.REDIS_URL, 'redis://redis:6379')
  assert.deepEqual(c.services.hashrec.depends_on, { redis: { condition: 'service_healthy' } })
})

test('every file, folder and volume the compose stack names exists, and every dependency is a service', () => {
  const c = load()
  for (const [name, s] of Object.entries(c.services)) {
    if (s.build) {
      const context = resolve(DEPLOY, s.build.context)
      assert.ok(statSync(context).isDirectory(), `${name}: build context ${context}`)
      assert.ok(existsSync(join(context, s.build.dockerfile)), `${name}: ${s.build.dockerfile}`)
    }
    for (const m of mounts(c, name)) {
      if (m.named) assert.ok(m.source in c.volumes, `${name}: volume ${m.source} is declared`)
      else assert.ok(existsSync(join(DEPLOY, m.source)), `${name}: ${m.source} exists beside compose.yaml`)
      assert.ok(m.target.startsWith('/'), `${name}: ${m.target} is an absolute path`)
    }
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {})
    for (const d of deps) assert.ok(d in c.services, `${name} depends on ${d}`)
    for (const [dep, cond] of Object.entries(Array.isArray(s.depends_on) ? {} : s.depends_on ?? {})) {
      if (cond.condition === 'service_healthy') assert.ok(c.services[dep].healthcheck, `${name} waits for ${dep} to be healthy: it needs a healthcheck`)
    }
  }
  // Every declared volume is used.
  const used = new Set(Object.keys(c.services).flatMap((n) => mounts(c, n).filter((m) => m.named).map((m) => m.source)))
  assert.deepEqual(Object.keys(c.volumes).sort(), [...used].sort())
})

test('nginx balances the hashrec service on its port and hides /metrics; Prometheus scrapes every replica and loads the alerts', () => {
  const c = load()
  const port = c.services.hashrec.environment?.PORT ?? '8080'
  const nginx = readFileSync(join(DEPLOY, 'nginx/nginx.conf'), 'utf8')
  assert.match(nginx, new RegExp(`server hashrec:${port} resolve`))
  assert.match(nginx, /resolver 127\.0\.0\.11/, 'Docker\'s DNS, re-resolved as replicas come and go')
  assert.match(nginx, /location = \/metrics \{ return 404; \}/)
  const [listen] = /listen (\d+);/.exec(nginx)?.slice(1) ?? []
  assert.deepEqual(c.services.nginx.ports, [`127.0.0.1:8080:${listen}`])
  assert.equal(mounts(c, 'nginx')[0].target, '/etc/nginx/nginx.conf')

  const prom = parse(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')) as {
    rule_files: string[], scrape_configs: { job_name: string, dns_sd_configs?: { names: string[], type: string, port: number }[] }[]
  }
  const job = prom.scrape_configs.find((j) => j.job_name === 'hashrec')
  assert.deepEqual(job?.dns_sd_configs, [{ names: ['hashrec'], type: 'A', port: Number(port), refresh_interval: '15s' }])
  const promMounts = mounts(c, 'prometheus')
  for (const rule of prom.rule_files) assert.ok(promMounts.some((m) => m.target === rule && m.source === './prometheus/alerts.yaml'), `rule file ${rule} is mounted from alerts.yaml`)
  assert.ok(promMounts.some((m) => m.target === '/etc/prometheus/prometheus.yml'))
  // The alerts select job="hashrec": the scrape job must carry that name.
  assert.match(readFileSync(join(DEPLOY, 'prometheus/alerts.yaml'), 'utf8'), /job="hashrec"/)
})

test('Grafana is provisioned with the Prometheus data source and the hashrec dashboard', () => {
  const c = load()
  const g = mounts(c, 'grafana')
  const provisioning = g.find((m) => m.target === '/etc/grafana/provisioning')
  assert.ok(provisioning)
  const ds = parse(readFileSync(join(DEPLOY, provisioning.source, 'datasources/prometheus.yaml'), 'utf8')) as { datasources: { type: string, url: string, isDefault: boolean }[] }
  assert.deepEqual(ds.datasources.map((d) => [d.type, d.url, d.isDefault]), [['prometheus', 'http://prometheus:9090', true]])
  assert.match(c.services.prometheus.ports?.[0] ?? '', /:9090$/)
  const providers = parse(readFileSync(join(DEPLOY, provisioning.source, 'dashboards/hashrec.yaml'), 'utf8')) as { providers: { type: string, options: { path: string } }[] }
  const dashboard = g.find((m) => m.source === './grafana/hashrec.json')
  assert.ok(dashboard, 'the dashboard file is mounted')
  assert.equal(dirname(dashboard.target), providers.providers[0].options.path)
  const json = JSON.parse(readFileSync(join(DEPLOY, 'grafana/hashrec.json'), 'utf8')) as { uid: string, templating: { list: { name: string, type: string, query: unknown }[] } }
  assert.equal(json.uid, 'hashrec')
  assert.deepEqual(json.templating.list.find((v) => v.name === 'datasource'), { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 })
})

test('a replica has longer to stop than its drain takes, and sheds before its memory limit', () => {
  const c = load()
  const h = c.services.hashrec
  const drainMs = Number(h.environment?.SHUTDOWN_DELAY_MS ?? 8000)
  assert.ok(seconds(h.stop_grace_period ?? '10s') * 1000 > drainMs + 5000, 'grace period leaves room after the drain')
  const limit = Number(/^(\d+)M$/.exec(h.deploy?.resources.limits.memory ?? '')?.[1]) * 2 ** 20
  const maxRss = Number(h.environment?.MAX_RSS_BYTES)
  assert.ok(maxRss > 0 && maxRss < limit, `MAX_RSS_BYTES ${maxRss} below the limit ${limit}`)
  assert.equal(h.environment?.WORKERS, '1')
  // The environment is one the service accepts, with the admin token unset (compose substitutes '').
  const env = Object.fromEntries(Object.entries(h.environment ?? {}).map(([k, v]) => [k, v.replace(/\$\{[A-Z_]+:-\}/, '')]))
  const config = loadConfig(env)
  assert.equal(config.ADMIN_TOKEN, undefined)
  assert.equal(config.RESULT_CACHE_BYTES, 32 * 2 ** 20)
})
