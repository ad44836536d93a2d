import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startLoad } from '../helpers/load.js'
import { createTestApp } from './helpers.js'

test('drain under keep-alive load: /readyz 503 at once, requests served through the delay, nothing sent before the listener closed fails, later ones are refused', { timeout: 60_000 }, async (t) => {
  let closedAt = 0
  const stream = { write: (line: string) => { const l = JSON.parse(line) as { msg: string, at?: number }; if (l.msg.startsWith('listener closed')) closedAt = l.at! } }
  const { app } = await createTestApp(t, { app: { logger: { level: 'info', stream } }, config: { MAX_EVENT_LOOP_DELAY_MS: 0 } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const load = startLoad(port, { connections: 8, path: (i) => `/v1/users/u${i % 20}/recommendations?k=5` })
  while (load.outcomes.length < 200) await new Promise((resolve) => setTimeout(resolve, 10))

  const drained = app.drain({ delayMs: 500, lingerMs: 300, finishMs: 2000 })
  assert.equal(app.readiness.phase, 'draining')
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(ready.statusCode, 503)
  assert.match(ready.json().detail, /draining/)
  await drained
  await load.stop()

  assert.ok(closedAt > 0, 'the listener-closed moment is logged')
  const before = load.outcomes.filter((o) => o.sentAt < closedAt)
  const failedBefore = before.filter((o) => o.status !== 200)
  assert.deepEqual(failedBefore, [], 'every request sent before the listener closed was answered 200')
  const during = before.filter((o) => o.sentAt >= closedAt - 500)
  assert.ok(during.length > 50, `served ${during.length} requests during the delay`)
  const after = load.outcomes.filter((o) => o.sentAt >= closedAt)
  assert.ok(after.length > 0)
  // After the close: answered on a connection still open (with Connection: close), or refused.
  for (const o of after) assert.ok((o.status === 200 && o.connection === 'close') || o.error === 'ECONNREFUSED', JSON.stringify(o))
  assert.ok(after.some((o) => o.error === 'ECONNREFUSED'))
  assert.equal(app.server.listening, false)
})
