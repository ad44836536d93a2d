import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseAllDocuments } from 'yaml'
import { loadConfig } from '../../src/config.js'
import { schemaErrors, unknownFieldErrors, type Manifest } from './kubernetes-schema.js'

const ROOT = 'deploy/kubernetes'
const OVERLAYS = ['demo', 'production']
// kubectl embeds kustomize and renders offline; it is not part of every development machine.
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0

function render (overlay: string): Manifest[] {
  const run = spawnSync('kubectl', ['kustomize', join(ROOT, 'overlays', overlay)], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return parseAllDocuments(run.stdout).map((d) => d.toJS() as Manifest)
}

/** Every complete resource file (not kustomizations, not patches) under deploy/kubernetes. */
function resourceFiles (): { file: string, manifest: Manifest }[] {
  const out: { file: string, manifest: Manifest }[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name)
      if (e.isDirectory()) walk(path)
      else if (e.name.endsWith('.yaml') && e.name !== 'kustomization.yaml') {
        for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) out.push({ file: path, manifest: doc.toJS() as Manifest })
      }
    }
  }
  walk(ROOT)
  return out
}

async function assertValid (manifests: readonly Manifest[], label: (i: number) => string): Promise<void> {
  for (const [i, m] of manifests.entries()) assert.equal(await schemaErrors(m), '', `${label(i)}: schema`)
  assert.deepEqual(unknownFieldErrors(manifests, label), [])
}

test('every resource file under deploy/kubernetes is valid against the Kubernetes schemas, unknown fields included', async () => {
  const files = resourceFiles()
  assert.ok(files.length >= 9)
  await assertValid(files.map((f) => f.manifest), (i) => `${files[i].file} (${files[i].manifest.kind})`)
})

test('the schema check catches a wrong type and a misspelt field', async () => {
  const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'c', image: 'i', livenesProbe: {}, ports: [{ containerPort: 'http' }] }] } } } } as Manifest
  assert.match(await schemaErrors(bad), /containerPort must be integer/)
  const misspelt = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'c', image: 'i', livenesProbe: {} }] } } } } as Manifest
  assert.equal(await schemaErrors(misspelt), '', 'the schema alone lets it through')
  const errors = unknownFieldErrors([misspelt], () => 'misspelt')
  assert.ok(errors.some((e) => /livenesProbe/.test(e)), errors.join('\n'))
})

for (const overlay of OVERLAYS) {
  test(`the ${overlay} overlay renders to valid manifests that reference each other consistently`, { skip: hasKubectl ? false : 'kubectl (which renders kustomize) is not installed' }, async () => {
    const docs = render(overlay)
    await assertValid(docs, (i) => `${overlay}: ${docs[i].kind}/${docs[i].metadata.name}`)
    const find = <T>(kind: string, name?: string): T => {
      const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name))
      assert.equal(found.length, 1, `${overlay}: one ${kind} ${name ?? ''}`)
      return found[0] as unknown as T
    }
    type Probe = { httpGet: { path: string, port: string } }
    type Container = { name: string, image: string, ports?: { name: string, containerPort: number }[], env?: { name: string, value?: string, valueFrom?: { secretKeyRef?: { name: string, optional?: boolean } } }[], envFrom?: { configMapRef: { name: string } }[], startupProbe?: Probe, livenessProbe?: Probe, readinessProbe?: Probe, lifecycle?: { preStop: { exec: { command: string[] } } }, resources: { requests: Record<string, string>, limits: Record<string, string> }, volumeMounts: { name: string, mountPath: string }[], command?: string[] }
    type Deployment = { metadata: { name: string }, spec: { selector: { matchLabels: Record<string, string> }, template: { metadata: { labels: Record<string, string> }, spec: { terminationGracePeriodSeconds: number, securityContext: { runAsNonRoot: boolean, runAsUser: number }, initContainers: Container[], containers: Container[], volumes: { name: string }[] } } } }
    const deployment = find<Deployment>('Deployment', 'hashrec')
    const pod = deployment.spec.template.spec
    const [app] = pod.containers
    const podLabels = deployment.spec.template.metadata.labels
    const selects = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => podLabels[k] === v)
    assert.ok(selects(deployment.spec.selector.matchLabels))

    // Probes on the service's real endpoints and on a port the container declares.
    assert.deepEqual([app.startupProbe?.httpGet.path, app.livenessProbe?.httpGet.path, app.readinessProbe?.httpGet.path], ['/healthz', '/healthz', '/readyz'])
    for (const p of [app.startupProbe, app.livenessProbe, app.readinessProbe]) assert.ok(app.ports?.some((x) => x.name === p?.httpGet.port))
    const config = find<{ metadata: { name: string }, data: Record<string, string> }>('ConfigMap')
    assert.deepEqual(app.envFrom, [{ configMapRef: { name: config.metadata.name } }])
    assert.equal(String(app.ports?.[0].containerPort), config.data.PORT)
    assert.equal(config.data.WORKERS, '1')
    // The environment the pod gets is one the service accepts (its own config schema).
    const literalEnv = Object.fromEntries((app.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]))
    const parsed = loadConfig({ ...config.data, ...literalEnv, ADMIN_TOKEN: 'a-secret-admin-token', REDIS_URL: 'redis://redis.example:6379', REPLICA_ID: 'hashrec-7d9f-abcde' })
    assert.equal(parsed.RESULT_CACHE_BYTES, Number(config.data.RESULT_CACHE_BYTES))

    // Drain: the preStop sleep and the service's own drain fit in the grace period.
    const preStop = Number(app.lifecycle?.preStop.exec.command[1])
    assert.deepEqual(app.lifecycle?.preStop.exec.command, ['sleep', String(preStop)])
    assert.ok(pod.terminationGracePeriodSeconds > preStop + Number(config.data.SHUTDOWN_DELAY_MS) / 1000 + 5)

    // Memory: shedding (MAX_RSS_BYTES) starts below the limit, the request at or below the limit.
    const mib = (q: string): number => Number(/^(\d+)Mi$/.exec(q)?.[1])
    assert.ok(mib(app.resources.requests.memory) <= mib(app.resources.limits.memory))
    assert.ok(Number(config.data.MAX_RSS_BYTES) < mib(app.resources.limits.memory) * 2 ** 20)
    assert.ok(app.resources.requests.cpu, 'the HPA scales on CPU relative to the request')

    // Non-root as the image's numeric user; the model from the init container's volume.
    assert.deepEqual([pod.securityContext.runAsNonRoot, pod.securityContext.runAsUser], [true, 1000])
    assert.match(readFileSync('Dockerfile', 'utf8'), /^USER 1000:1000$/m)
    const [init] = pod.initContainers
    const modelsVolume = init.volumeMounts.find((m) => config.data.MODEL_DIR.startsWith(`${m.mountPath}/`))
    assert.ok(modelsVolume, 'the init container writes where MODEL_DIR points')
    assert.ok(app.volumeMounts.some((m) => m.name === modelsVolume.name && m.mountPath === modelsVolume.mountPath))
    assert.ok(init.command?.join(' ').includes(config.data.MODEL_DIR))
    for (const c of [...pod.initContainers, ...pod.containers]) for (const m of c.volumeMounts) assert.ok(pod.volumes.some((v) => v.name === m.name), `volume ${m.name}`)

    // ADMIN_TOKEN from a Secret: optional in the demo (admin routes off), required in production.
    const admin = app.env?.find((e) => e.name === 'ADMIN_TOKEN')?.valueFrom?.secretKeyRef
    assert.equal(admin?.name, 'hashrec-admin')
    assert.equal(admin?.optional, overlay === 'demo')
    const redisUrl = app.env?.find((e) => e.name === 'REDIS_URL')
    if (overlay === 'demo') {
      const sts = find<{ metadata: { name: string }, spec: { serviceName: string } }>('StatefulSet')
      assert.equal(redisUrl?.value, `redis://${sts.metadata.name}-0.${sts.spec.serviceName}:6379`)
      find('Service', sts.spec.serviceName)
    } else {
      assert.deepEqual(redisUrl?.valueFrom?.secretKeyRef, { name: 'hashrec-redis', key: 'url' })
      assert.equal(docs.some((d) => d.kind === 'StatefulSet'), false)
    }
    // The demo takes the model from the service's own image (the Dockerfile trains models/default
    // under WORKDIR /app); production from a model image of its own.
    const source = init.env?.find((e) => e.name === 'MODEL_SOURCE')?.value
    if (overlay === 'demo') {
      assert.deepEqual([app.image, init.image, source], ['hashrec:local', 'hashrec:local', '/app/models/default'])
      assert.match(readFileSync('Dockerfile', 'utf8'), /^WORKDIR \/app$[\s\S]*--out models\/default/m)
    } else {
      assert.deepEqual([app.image, init.image, source], ['registry.example.com/hashrec:0.1.0', 'registry.example.com/hashrec-model:2026-12-01', '/bundle'])
    }

    // Service, PDB, HPA and ServiceMonitor all point at these pods.
    const service = find<{ metadata: { labels: Record<string, string> }, spec: { selector: Record<string, string>, ports: { name: string, targetPort: string }[] } }>('Service', 'hashrec')
    assert.ok(selects(service.spec.selector))
    assert.ok(service.spec.ports.every((p) => app.ports?.some((x) => x.name === p.targetPort)))
    assert.ok(selects(find<{ spec: { selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget').spec.selector.matchLabels))
    const hpa = find<{ spec: { scaleTargetRef: { kind: string, name: string }, minReplicas: number, metrics: { resource: { name: string } }[] } }>('HorizontalPodAutoscaler')
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
    assert.ok(hpa.spec.minReplicas >= 2, 'a PodDisruptionBudget of one unavailable pod leaves one serving')
    assert.equal(hpa.spec.metrics[0].resource.name, 'cpu')
    if (overlay === 'production') {
      const sm = find<{ spec: { selector: { matchLabels: Record<string, string> }, endpoints: { port: string, path: string }[] } }>('ServiceMonitor')
      assert.ok(Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => service.metadata.labels[k] === v))
      assert.deepEqual(sm.spec.endpoints.map((e) => [e.port, e.path]), [['http', '/metrics']])
      assert.ok(service.spec.ports.some((p) => p.name === 'http'))
    }
  })
}
