import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { lazyChildLogger } from '../../src/request-logger.js'

function capture (level = 'info'): { logger: FastifyBaseLogger, lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  // fastify's own pino, as the service's: no direct dependency on pino.
  const logger = Fastify({ logger: { level, stream: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } } } }).log
  return { logger, lines }
}

/** The parent, with its child() calls counted. */
function counting (logger: FastifyBaseLogger): { parent: FastifyBaseLogger, children: () => number } {
  let n = 0
  const parent = Object.create(logger) as FastifyBaseLogger
  parent.child = (bindings, options) => { n++; return logger.child(bindings, options) }
  return { parent, children: () => n }
}

test('a request logger that never logs never makes a pino child', () => {
  const { logger } = capture()
  const { parent, children } = counting(logger)
  const log = lazyChildLogger(parent, { requestId: 'r1' }, {})
  assert.equal(log.level, 'info', 'the level is read from the parent without a child')
  assert.equal(children(), 0)
})

test('lines carry the bindings; the child is made once, on the first line, whatever the level', () => {
  const { logger, lines } = capture('debug')
  const { parent, children } = counting(logger)
  const log = lazyChildLogger(parent, { requestId: 'r2' }, {})
  log.error({ err: new Error('boom') }, 'request failed')
  log.info('plain message %s', 'formatted')
  log.debug({ a: 1 }, 'with object')
  log.trace('below the level: not written')
  assert.equal(children(), 1)
  assert.deepEqual(lines.map((l) => [l.requestId, l.level, l.msg]), [
    ['r2', 50, 'request failed'],
    ['r2', 30, 'plain message formatted'],
    ['r2', 20, 'with object'],
  ])
  assert.match(JSON.stringify(lines[0].err), /boom/)
  assert.equal(lines[2].a, 1)
})

test('child options and levels apply as a pino child\'s would; child() nests the bindings', () => {
  const { logger, lines } = capture()
  const log = lazyChildLogger(logger, { requestId: 'r3' }, { level: 'warn' })
  assert.equal(log.level, 'warn')
  log.info('dropped: under the child level')
  log.warn('kept')
  log.level = 'info'
  log.info('kept after lowering the level')
  assert.equal(logger.level, 'info', 'the parent keeps its own level')
  log.child({ step: 'load' }).info('nested')
  assert.deepEqual(lines.map((l) => [l.requestId, l.msg, l.step]), [
    ['r3', 'kept', undefined],
    ['r3', 'kept after lowering the level', undefined],
    ['r3', 'nested', 'load'],
  ])
})
