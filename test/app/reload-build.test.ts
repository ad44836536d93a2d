import assert from 'node:assert/strict'
import { request } from 'node:http'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { writeTestBundle } from '../helpers/bundle-fixture.js'
import { createTestApp, TEST_TOKEN } from './helpers.js'

function get (port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
    req.on('error', reject)
    req.end()
  })
}

test('a reload that builds a 20k-item index answers /healthz and serves the previous model while the worker thread builds', { timeout: 180_000 }, async (t) => {
  const phases: string[] = []
  let building = false
  let answeredDuringBuild = 0
  let servedDuringBuild = 0
  const { app, root } = await createTestApp(t, {
    app: {
      loadModel: (dir) => loadModel(dir, {
        log: (msg) => {
          if (msg.startsWith('building the HNSW index')) { building = true; phases.push('start') }
          if (msg.startsWith('built HNSW index')) { building = false; phases.push('end') }
        },
      }),
    },
  })
  await writeTestBundle(join(root, 'big'), { items: 20_000, users: 50, dimension: 8, version: 'v2', hnsw: { space: 'ip', M: 8, efConstruction: 32, efSearch: 32, randomSeed: 1, prebuild: false } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port

  const reload = app.inject({ method: 'POST', url: '/admin/model/reload', headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: { dir: 'big' } })
  let done = false
  void reload.finally(() => { done = true })
  while (!done) {
    const health = await get(port, '/healthz')
    assert.equal(health, 200)
    if (building) answeredDuringBuild++
    const served = await get(port, '/v1/users/u1/recommendations?k=3')
    assert.equal(served, 200)
    if (building) servedDuringBuild++
  }
  const res = await reload
  assert.equal(res.statusCode, 200, res.body)
  assert.deepEqual(phases, ['start', 'end'])
  assert.equal((res.json() as { model: { hnsw: { source: string } } }).model.hnsw.source, 'built')
  // With the build on the event loop, no request was answered between its start and its end.
  assert.ok(answeredDuringBuild >= 5, `answered /healthz ${answeredDuringBuild} times during the build`)
  assert.ok(servedDuringBuild >= 5, `served the previous model ${servedDuringBuild} times during the build`)
})
