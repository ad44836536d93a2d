#!/usr/bin/env node
/**
 * `npm start` on a fresh clone: build with tsc, train `models/default` from the shipped MovieLens
 * data when it is missing, then run the server (dist/index.js) with signals forwarded so its
 * close-with-grace drain still runs. Containers run `node dist/index.js` directly instead.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
process.chdir(root)
const log = (msg) => process.stderr.write(`[start] ${msg}\n`)

function run (label, args) {
  const started = Date.now()
  log(`${label}: node ${args.join(' ')}`)
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' })
  if (r.status !== 0) {
    log(`${label} failed (exit ${r.status ?? r.signal})`)
    process.exit(r.status ?? 1)
  }
  log(`${label} done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
run('build', [tsc, '-p', 'tsconfig.build.json'])

const DEFAULT_MODEL_DIR = 'models/default'
const modelDir = process.env.MODEL_DIR || DEFAULT_MODEL_DIR
if (!existsSync(join(modelDir, 'manifest.json'))) {
  if (resolve(modelDir) !== resolve(DEFAULT_MODEL_DIR)) {
    log(`MODEL_DIR=${modelDir} holds no bundle (no manifest.json); only ${DEFAULT_MODEL_DIR} is trained automatically`)
    process.exit(1)
  }
  // --fast skips the reference variants of the evaluation report: the served bundle is the same.
  run('train default model', ['dist/trainer/cli.js',
    '--input', 'data/ml-latest-small/ratings.csv',
    '--items', 'data/ml-latest-small/movies.csv',
    '--out', DEFAULT_MODEL_DIR,
    '--fast'])
}

// The young generation's flag (src/util/node-flags.ts), from the build just made.
const { YOUNG_GENERATION_FLAG } = await import(new URL('../dist/util/node-flags.js', import.meta.url).href)
const server = spawn(process.execPath, [YOUNG_GENERATION_FLAG, 'dist/index.js'], { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal))
server.on('exit', (code, signal) => { process.exit(code ?? (signal ? 128 : 1)) })
