import assert from 'node:assert/strict'
import { readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createTestApp, TEST_TOKEN, type Problem } from '../app/helpers.js'
import { tempDir, writeTestBundle } from '../helpers/bundle-fixture.js'
import { ReloadResponseSchema } from '../../src/routes/schemas.js'
import { createModelEngines } from '../../src/search/engines.js'
import { writeBundle } from '../../src/model-loader/write-bundle.js'
import { editTensors } from '../helpers/bundle-edit.js'
import { mappedBundleInput } from '../helpers/learned-fixture.js'

const auth = { authorization: `Bearer ${TEST_TOKEN}` }

async function version (app: Awaited<ReturnType<typeof createTestApp>>['app']): Promise<string> {
  return ((await app.inject({ method: 'GET', url: '/v1/model' })).json() as { version: string }).version
}

test('reload of a good bundle swaps the model, the engines and the metrics', async (t) => {
  const { app, root } = await createTestApp(t, { bundle: { items: 30 } })
  await writeTestBundle(join(root, 'v2'), { items: 45, version: 'v2', seed: 7 })
  const res = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })
  assert.equal(res.statusCode, 200, res.body)
  const body = ReloadResponseSchema.parse(res.json())
  assert.equal(body.previousVersion, 'v1')
  assert.equal(body.model.version, 'v2')
  assert.equal(body.model.counts.items, 45)
  assert.equal(await version(app), 'v2')
  const rec = (await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=45&method=mips' })).json() as { modelVersion: string, items: unknown[] }
  assert.equal(rec.modelVersion, 'v2')
  assert.equal(rec.items.length, 45)
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.match(metrics, /hashrec_model_info\{model_id="test-model",version="v2"\} 1/)
  assert.doesNotMatch(metrics, /version="v1"/)
  assert.match(metrics, /hashrec_model_items 45/)
  assert.match(metrics, /hashrec_model_reloads_total\{result="success"\} 1/)
})

test('reload of a corrupt bundle is a 422 with the loader\'s reason and the old model keeps serving', async (t) => {
  const { app, root } = await createTestApp(t)
  await writeTestBundle(join(root, 'broken'), { version: 'v9' })
  const tensors = join(root, 'broken', 'tensors.safetensors')
  const bytes = await readFile(tensors)
  bytes[bytes.length - 1] ^= 0xff
  await writeFile(tensors, bytes)
  const res = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'broken' } })
  assert.equal(res.statusCode, 422)
  const p = res.json() as Problem
  assert.equal(p.type, 'urn:hashrec:problem:invalid-bundle')
  assert.match(p.detail ?? '', /tensors\.safetensors/)
  assert.equal(await version(app), 'v1')
  assert.equal((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' })).statusCode, 200)
  assert.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /hashrec_model_reloads_total\{result="refused"\} 1/)
})

test('reload of a learned-mapping bundle with a row out of range is a 422 and the old model keeps serving; a sound one then swaps in', async (t) => {
  const { app, root } = await createTestApp(t)
  await writeBundle(join(root, 'mapped-bad'), mappedBundleInput({ version: 'v8', userMapping: true }))
  await editTensors(join(root, 'mapped-bad'), (x) => { (x.user_rows.data as Int32Array)[0] = 99 })
  const res = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'mapped-bad' } })
  assert.equal(res.statusCode, 422)
  assert.match((res.json() as Problem).detail ?? '', /user_rows.*row 99 of user line 0/)
  assert.equal(await version(app), 'v1')
  assert.equal((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' })).statusCode, 200)

  await writeBundle(join(root, 'mapped'), mappedBundleInput({ version: 'v9', userMapping: true }))
  const ok = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'mapped' } })
  assert.equal(ok.statusCode, 200, ok.body)
  const info = (await app.inject({ method: 'GET', url: '/v1/model' })).json() as { tables: Record<'user' | 'item', { learnedMapping: string | null, vectors: string, bytes: number, shareOfFloat32: number }> }
  // Items: 10 + 6 rows of 8 float32 and a 40 x 2 I32 mapping; users: 3 + 4 rows and a 6 x 2 mapping.
  assert.deepEqual(info.tables.item, { ...info.tables.item, learnedMapping: 'co-cluster', vectors: 'stored', bytes: 16 * 8 * 4 + 40 * 2 * 4 })
  assert.deepEqual(info.tables.user, { ...info.tables.user, learnedMapping: 'learned-hash', bytes: 7 * 8 * 4 + 6 * 2 * 4 })
  assert.equal(info.tables.item.shareOfFloat32, (16 * 8 * 4 + 40 * 2 * 4) / ((40 + 6) * 8 * 4))
  const rec = (await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=5' })).json() as { modelVersion: string, source: string, items: unknown[] }
  assert.equal(rec.modelVersion, 'v9')
  assert.equal(rec.source, 'dedicated')
  assert.equal(rec.items.length, 5)
})

test('reload of an I8 bundle with a negative row scale is a 422 and the old model keeps serving; a sound one swaps in and counts its bytes', async (t) => {
  const { app, root } = await createTestApp(t)
  const o = { items: 30, users: 6, itemDedicated: 10, itemShared: 5, embeddingDtype: 'I8' as const }
  await writeTestBundle(join(root, 'i8-bad'), { ...o, version: 'v8' })
  await editTensors(join(root, 'i8-bad'), (x) => { (x.item_embeddings_shared_scale.data as Float32Array)[2] = -1 })
  const res = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'i8-bad' } })
  assert.equal(res.statusCode, 422)
  assert.match((res.json() as Problem).detail ?? '', /tensors\.safetensors \(item_embeddings_shared_scale\): negative scale -1 at row 2/)
  assert.equal(await version(app), 'v1')
  assert.equal((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' })).statusCode, 200)

  await writeTestBundle(join(root, 'i8'), { ...o, version: 'v9' })
  const ok = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'i8' } })
  assert.equal(ok.statusCode, 200, ok.body)
  const info = (await app.inject({ method: 'GET', url: '/v1/model' })).json() as { embeddingDtype: string, tables: Record<'user' | 'item', { bytes: number }> }
  assert.equal(info.embeddingDtype, 'I8')
  // One byte a value and a float32 scale a row: (10 + 5) rows of 8, and 6 user rows.
  assert.equal(info.tables.item.bytes, 15 * (8 + 4))
  assert.equal(info.tables.user.bytes, 6 * (8 + 4))
  assert.equal((await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=5' })).json().items.length, 5)
})

test('reload of a directory that is not a bundle is a 422; of a missing directory a 404', async (t) => {
  const { app, root } = await createTestApp(t)
  await writeFile(join(root, 'stray.txt'), 'x')
  const notBundle = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: '.' } })
  assert.equal(notBundle.statusCode, 422)
  assert.match((notBundle.json() as Problem).detail ?? '', /manifest\.json/)
  const missing = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'nothing-here' } })
  assert.equal(missing.statusCode, 404)
  assert.equal((missing.json() as Problem).type, 'urn:hashrec:problem:model-not-found')
})

test('reload refuses paths that escape the models root: .., absolute, and symlinks out', async (t) => {
  const { app, root } = await createTestApp(t)
  const outside = await tempDir()
  t.after(outside.cleanup)
  await writeTestBundle(join(outside.dir, 'evil'), { version: 'evil' })
  await symlink(join(outside.dir, 'evil'), join(root, 'link'))
  for (const dir of ['../evil', 'v1/../../evil', '/etc', join(outside.dir, 'evil'), 'link']) {
    const res = await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir } })
    assert.equal(res.statusCode, 400, dir)
    assert.equal((res.json() as Problem).type, 'urn:hashrec:problem:invalid-parameters')
  }
  assert.equal(await version(app), 'v1')
})

test('admin routes need the bearer token; without a configured token they do not exist', async (t) => {
  const { app } = await createTestApp(t)
  for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: `Basic ${TEST_TOKEN}` }, { authorization: `Bearer ${TEST_TOKEN}x` }]) {
    const res = await app.inject({ method: 'POST', url: '/admin/model/reload', headers, payload: { dir: 'v1' } })
    assert.equal(res.statusCode, 401)
    assert.equal((res.json() as Problem).type, 'urn:hashrec:problem:unauthorized')
    assert.match(String(res.headers['www-authenticate']), /^Bearer/)
  }
  const off = await createTestApp(t, { config: { ADMIN_TOKEN: undefined } })
  const res = await off.app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v1' } })
  assert.equal(res.statusCode, 404)
})

test('requests in flight during a reload all succeed, and a second reload meanwhile is a 409', async (t) => {
  const { app, root } = await createTestApp(t, { bundle: { items: 200 } })
  await writeTestBundle(join(root, 'v2'), { items: 200, version: 'v2', seed: 3 })
  const reload = app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })
  // The loader awaits file reads, so these interleave with it on the event loop.
  const during = Array.from({ length: 60 }, (_, i) => app.inject({ method: 'GET', url: `/v1/users/u${i % 20}/recommendations?k=5` }))
  const second = app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })
  const [first, ...rest] = await Promise.all([reload, second, ...during])
  assert.equal(first.statusCode, 200)
  assert.equal(rest[0].statusCode, 409)
  const versions = new Set<string>()
  for (const res of rest.slice(1)) {
    assert.equal(res.statusCode, 200)
    const body = res.json() as { modelVersion: string, items: unknown[] }
    assert.equal(body.items.length, 5)
    versions.add(body.modelVersion)
  }
  for (const v of versions) assert.ok(v === 'v1' || v === 'v2')
  assert.equal(await version(app), 'v2')
})

test('a reload swaps only when the new engines are ready (their background build): the old model serves until then', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let prepared!: () => void
  const preparedV2 = new Promise<void>((resolve) => { prepared = resolve })
  const { app, root } = await createTestApp(t, {
    bundle: { items: 30 },
    app: {
      createEngines: (model) => {
        const engines = createModelEngines(model)
        if (model.version !== 'v2') return engines
        prepared()
        return { hamming: engines.hamming, mips: engines.mips, hybrid: engines.hybrid, info: engines.info, stats: engines.stats, whenReady: gate }
      },
    },
  })
  await writeTestBundle(join(root, 'v2'), { items: 40, version: 'v2', seed: 5 })
  const reload = app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })
  await preparedV2
  for (let i = 0; i < 3; i++) {
    assert.equal(await version(app), 'v1', 'still the old model while the new engines build')
    const rec = (await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=3' })).json() as { modelVersion: string }
    assert.equal(rec.modelVersion, 'v1')
  }
  release()
  assert.equal((await reload).statusCode, 200)
  assert.equal(await version(app), 'v2')
})

test('a reload warms the new model\'s answers before the swap: a known user\'s first request is then a hit; WARM_UP_USERS=0 turns it off', async (t) => {
  const counter = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN)
  for (const users of [undefined, 0]) {
    const { app, root } = await createTestApp(t, { bundle: { items: 30, users: 8 }, config: users === undefined ? {} : { WARM_UP_USERS: String(users) } })
    await writeTestBundle(join(root, 'v2'), { items: 40, users: 8, version: 'v2', seed: 5 })
    assert.equal((await app.inject({ method: 'POST', url: '/admin/model/reload', headers: auth, payload: { dir: 'v2' } })).statusCode, 200)
    const before = (await app.inject({ method: 'GET', url: '/metrics' })).body
    const res = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' })
    assert.equal(res.statusCode, 200)
    const after = (await app.inject({ method: 'GET', url: '/metrics' })).body
    const warmed = users === undefined ? 8 : 0
    assert.equal(counter(before, 'hashrec_result_cache_total{result="warmed"}'), warmed)
    assert.equal(counter(before, `hashrec_warm_up_answers{stopped_by="${users === undefined ? 'done' : 'off'}"}`), warmed)
    assert.equal(counter(after, 'hashrec_result_cache_total{result="cached"}'), users === undefined ? 1 : 0, 'the default request of a warmed user is kept')
    assert.equal(counter(after, 'hashrec_result_cache_total{result="computed"}'), users === undefined ? 0 : 1)
  }
})
