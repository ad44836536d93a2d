import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { createModelEngines } from '../../src/search/engines.js'
import { createTestApp } from './helpers.js'

function busyWait (ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) { /* hold the event loop, as a saturated worker does */ }
}

test('a blocked event loop sheds requests with 503 overloaded and Retry-After, keeps probes up, and recovers', async (t) => {
  const { app, model } = await createTestApp(t, {
    config: { MAX_EVENT_LOOP_DELAY_MS: 30, RETRY_AFTER_S: 3 },
    // 50 ms: several 10 ms histogram ticks per sample (an empty sample reads as NaN, i.e. overloaded).
    app: { pressure: { sampleIntervalMs: 50 } },
  })
  await app.ready()
  const url = `/v1/users/${encodeURIComponent(model.users.idAt(0))}/recommendations?k=3`
  // The first samples can be empty (mean NaN, which under-pressure counts as overloaded) or hold
  // the stall of loading the test bundle: wait for a calm one.
  let calm = false
  for (let i = 0; i < 100 && !calm; i++) {
    await sleep(20)
    calm = (await app.inject({ url })).statusCode === 200
  }
  assert.ok(calm, 'never served before the loop was blocked')

  let shed = null
  // One 300 ms stall among ~10 ms ticks keeps a 50 ms sample's mean well above the 30 ms limit.
  for (let i = 0; i < 10 && shed === null; i++) {
    busyWait(300)
    await sleep(5) // the overdue sampler runs first, with the stall in its histogram; the next sample would be calm again
    const res = await app.inject({ url })
    if (res.statusCode === 503) shed = res
  }
  assert.ok(shed !== null, 'never shed while the loop was blocked')
  assert.equal(shed.headers['retry-after'], '3')
  assert.match(String(shed.headers['content-type']), /^application\/problem\+json/)
  const body = shed.json()
  assert.equal(body.type, 'urn:hashrec:problem:overloaded')
  assert.equal(body.status, 503)
  assert.equal(body.instance, url.split('?')[0])
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200)

  const metrics = (await app.inject({ url: '/metrics' })).body
  const count = Number(/hashrec_shed_requests_total\{reason="event_loop_delay"\} (\d+)/.exec(metrics)?.[1] ?? 0)
  assert.ok(count >= 1, metrics.split('\n').filter((l) => l.includes('shed')).join('\n'))

  let recovered = false
  for (let i = 0; i < 100 && !recovered; i++) {
    await sleep(20)
    recovered = (await app.inject({ url })).statusCode === 200
  }
  assert.ok(recovered, 'still shedding 2 s after the loop was freed')
})

test('a request that reaches its handler after REQUEST_TIMEOUT_MS is answered 503 overloaded, one within it is served', async (t) => {
  const { app } = await createTestApp(t, { config: { REQUEST_TIMEOUT_MS: 40, MAX_EVENT_LOOP_DELAY_MS: 0 } })
  app.get('/test/slow-start', { onRequest: async () => { await sleep(80) } }, async () => ({ ok: true }))
  app.get('/test/fast', async () => ({ ok: true }))
  await app.ready()
  assert.equal(app.server.requestTimeout, 40)

  const fast = await app.inject({ url: '/test/fast' })
  assert.equal(fast.statusCode, 200)
  const slow = await app.inject({ url: '/test/slow-start' })
  assert.equal(slow.statusCode, 503)
  assert.equal(slow.json().type, 'urn:hashrec:problem:overloaded')
  assert.match(slow.json().detail, /40 ms request budget/)
  assert.ok(slow.headers['retry-after'] !== undefined)
})

test('with every limit off nothing is shed however long a request takes to start', async (t) => {
  const { app } = await createTestApp(t, { config: { REQUEST_TIMEOUT_MS: 1000, MAX_EVENT_LOOP_DELAY_MS: 0, MAX_HEAP_USED_BYTES: 0 } })
  app.get('/test/slow-start', { onRequest: async () => { await sleep(30) } }, async () => ({ ok: true }))
  await app.ready()
  busyWait(50)
  assert.equal((await app.inject({ url: '/test/slow-start' })).statusCode, 200)
})

test('a batch whose k sum past MAX_BATCH_TOTAL_K is refused with 400 naming body.requests', async (t) => {
  const { app, model } = await createTestApp(t)
  const requests = Array.from({ length: 11 }, (_, i) => ({ userId: model.users.idAt(i % model.users.size), k: 1000 }))
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests } })
  assert.equal(res.statusCode, 400)
  assert.equal(res.json().invalidParams[0].name, 'body.requests')
  const ok = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: requests.slice(0, 10) } })
  assert.equal(ok.statusCode, 200)
})

test('a single request sent while a long batch runs is answered before the batch finishes', async (t) => {
  // Every search holds the loop 3 ms, so a 100-entry batch takes ~300 ms of CPU.
  const { app, model } = await createTestApp(t, {
    // No result cache: every request of the batch searches.
    config: { MAX_EVENT_LOOP_DELAY_MS: 0, RESULT_CACHE_BYTES: 0 },
    app: {
      createEngines: (m) => {
        const e = createModelEngines(m)
        return { ...e, hybrid: (code, vector, opts) => { busyWait(3); return e.hybrid(code, vector, opts) } }
      },
    },
  })
  await app.ready()
  const user = model.users.idAt(0)
  const order: string[] = []
  const batch = app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: Array.from({ length: 100 }, () => ({ userId: user, k: 5 })) } })
    .then((r) => { order.push('batch'); return r })
  await sleep(20)
  const single = app.inject({ url: `/v1/users/${encodeURIComponent(user)}/recommendations?k=5` }).then((r) => { order.push('single'); return r })
  const [b, s] = await Promise.all([batch, single])
  assert.equal(b.statusCode, 200)
  assert.equal(s.statusCode, 200)
  assert.deepEqual(order, ['single', 'batch'])
})

test('a batch that runs past REQUEST_TIMEOUT_MS stops between slices with 503 overloaded', async (t) => {
  const { app, model } = await createTestApp(t, {
    config: { MAX_EVENT_LOOP_DELAY_MS: 0, REQUEST_TIMEOUT_MS: 50, RESULT_CACHE_BYTES: 0 },
    app: {
      createEngines: (m) => {
        const e = createModelEngines(m)
        return { ...e, hybrid: (code, vector, opts) => { busyWait(3); return e.hybrid(code, vector, opts) } }
      },
    },
  })
  const user = model.users.idAt(0)
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: Array.from({ length: 100 }, () => ({ userId: user, k: 5 })) } })
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().type, 'urn:hashrec:problem:overloaded')
  assert.ok(res.headers['retry-after'] !== undefined)
  const small = await app.inject({ method: 'POST', url: '/v1/recommendations/batch', payload: { requests: [{ userId: user, k: 5 }] } })
  assert.equal(small.statusCode, 200)
})

test('heavy routes are shed from half the delay limit, by their own hook; other routes are not', async (t) => {
  const { app } = await createTestApp(t, {
    config: { MAX_EVENT_LOOP_DELAY_MS: 1000 },
    app: { pressure: { sampleIntervalMs: 50, heavy: ['/test/heavy'] } },
  })
  app.get('/test/heavy', async () => ({ ok: true }))
  app.get('/test/light', async () => ({ ok: true }))
  await app.ready()
  await sleep(150) // armed two samples after ready
  assert.equal((await app.inject({ url: '/test/heavy' })).statusCode, 200)
  // The delay reading the batch hook acts on, set between half the limit and the limit: a real
  // stall's reading is at the mercy of timer order (an empty sample reads as infinite).
  const real = app.memoryUsage.bind(app)
  Object.defineProperty(app, 'memoryUsage', { value: () => ({ ...real(), eventLoopDelay: 600 }) })
  const heavy = await app.inject({ url: '/test/heavy' })
  assert.equal(heavy.statusCode, 503)
  assert.match(heavy.json().detail, /event loop delay 600 ms: batches are shed first/)
  assert.match(String(heavy.headers['retry-after']), /^\d+$/)
  for (let i = 0; i < 5; i++) assert.equal((await app.inject({ url: '/test/light' })).statusCode, 200, 'a single request is not a batch')
  const metrics = (await app.inject({ url: '/metrics' })).body
  assert.equal(Number(/hashrec_shed_requests_total\{reason="batch"\} (\d+)/.exec(metrics)?.[1]), 1, 'only the heavy route shed, once')
  Object.defineProperty(app, 'memoryUsage', { value: () => ({ ...real(), eventLoopDelay: 400 }) })
  assert.equal((await app.inject({ url: '/test/heavy' })).statusCode, 200, 'under half the limit the heavy route is served')
})
