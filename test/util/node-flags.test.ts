import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { workerExecArgv, YOUNG_GENERATION_FLAG } from '../../src/util/node-flags.js'

test('workers get the young generation flag unless their flags already size the semi-spaces', () => {
  assert.deepEqual(workerExecArgv([]), [YOUNG_GENERATION_FLAG])
  assert.deepEqual(workerExecArgv(['--import', 'tsx']), ['--import', 'tsx', YOUNG_GENERATION_FLAG])
  assert.deepEqual(workerExecArgv([YOUNG_GENERATION_FLAG]), [YOUNG_GENERATION_FLAG], 'inherited from a primary started with it')
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=64']), ['--max-semi-space-size=64'])
  assert.deepEqual(workerExecArgv(['--min_semi_space_size=4']), ['--min_semi_space_size=4'])
  assert.deepEqual(workerExecArgv(['--max-old-space-size=4096']), ['--max-old-space-size=4096', YOUNG_GENERATION_FLAG])
})

test('the Dockerfile runs the single process with the same flag', () => {
  assert.match(readFileSync('Dockerfile', 'utf8'), new RegExp(`CMD \\["node", "${YOUNG_GENERATION_FLAG}", "dist/index.js"\\]`))
})
