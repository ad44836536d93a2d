import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { buildApp } from '../../src/app.js'
import { createConfig } from '../../src/config.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { tempDir } from '../helpers/bundle-fixture.js'

const SCRIPT = 'test/bundler/fixtures/factors.py'
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0
const SKIP = hasNumpy ? false : 'python3 with numpy is not installed: the factors are written by numpy'
const K = 10

interface NumpyAnswers { users: string[], mips: string[][], hammingBundleCodes: string[][], hammingSignCodes: string[][] }

function bundle (args: string[]): { status: number | null, stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/bundler/cli.ts', ...args], { encoding: 'utf8' })
  return { status: run.status, stderr: run.stderr }
}

async function fixture (t: TestContext): Promise<{ src: string, root: string, factorArgs: string[] }> {
  const { dir: root, cleanup } = await tempDir()
  t.after(cleanup)
  const src = join(root, 'src')
  const w = spawnSync('python3', [SCRIPT, 'write', src], { encoding: 'utf8' })
  assert.equal(w.status, 0, w.stderr)
  return { src, root, factorArgs: ['--item-factors', join(src, 'item_factors.npy'), '--user-factors', join(src, 'user_factors.npy'), '--items', join(src, 'items.csv'), '--users', join(src, 'users.csv')] }
}

function numpyAnswers (src: string, dir: string): NumpyAnswers {
  const r = spawnSync('python3', [SCRIPT, 'answer', src, dir, String(K)], { encoding: 'utf8', maxBuffer: 64 << 20 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as NumpyAnswers
}

/** Every user's answer from the service over the bundle, by method (seen items left out, the default). */
async function served (t: TestContext, root: string, dir: string, method: 'hamming' | 'mips', users: readonly string[]): Promise<string[][]> {
  const app = await buildApp({ config: createConfig({ MODELS_ROOT: root, WARM_UP_USERS: 0 }), model: await loadModel(dir) })
  t.after(() => app.close())
  const out: string[][] = []
  for (const u of users) {
    const res = await app.inject({ url: `/v1/users/${encodeURIComponent(u)}/recommendations?k=${K}&method=${method}` })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as { method: string, source: string, items: { id: string }[] }
    assert.deepEqual([body.method, body.source], [method, 'dedicated'])
    out.push(body.items.map((x) => x.id))
  }
  return out
}

function meanRecall (got: readonly string[][], want: readonly string[][]): number {
  return got.reduce((acc, g, u) => acc + g.filter((id) => want[u].includes(id)).length / want[u].length, 0) / got.length
}

test('factors written by numpy become a bundle whose Hamming answers equal numpy\'s and whose MIPS answers recall >= 0.99 of numpy\'s exact ones', { skip: SKIP }, async (t) => {
  const { src, root, factorArgs } = await fixture(t)
  const out = join(root, 'learned')
  const run = bundle([...factorArgs, '--interactions', join(src, 'train.csv'), '--test', join(src, 'test.csv'), '--out', out, '--threads', '1'])
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stderr, /8000 mapped onto the factors, 2 name a user or item without factors/)

  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { counts: { items: number, users: number }, dimension: number, files: Record<string, unknown>, training: { codes: { kind: string } } }
  assert.deepEqual([manifest.counts, manifest.dimension, manifest.training.codes.kind], [{ items: 3000, users: 400 }, 64, 'learned'])
  assert.deepEqual(Object.keys(manifest.files).sort(), ['eval.json', 'eval.md', 'eval.svg', 'items.hnsw', 'items.jsonl', 'tensors.safetensors', 'users.jsonl'])
  const model = await loadModel(out)
  assert.equal(model.hnsw?.source, 'file', 'the prebuilt index is used')
  assert.equal(model.userSeen?.items.length, 8000)
  // The factors arrive unchanged (users were float64 in the .npy, stored as float32).
  const itemFactors = await readFile(join(src, 'item_factors.npy'))
  assert.deepEqual(model.itemVectors.subarray(0, 64), new Float32Array(itemFactors.buffer.slice(itemFactors.byteOffset + itemFactors.length - 3000 * 64 * 4, itemFactors.byteOffset + itemFactors.length - 2999 * 64 * 4)))

  const want = numpyAnswers(src, out)
  assert.equal(want.users.length, 400)
  assert.ok(want.hammingBundleCodes.every((r) => r.length === K) && want.mips.every((r) => r.length === K))
  assert.deepEqual(await served(t, root, out, 'hamming', want.users), want.hammingBundleCodes)
  const mips = await served(t, root, out, 'mips', want.users)
  const recall = meanRecall(mips, want.mips)
  assert.ok(recall >= 0.99, `MIPS recall@${K} against numpy's exact top-${K}: ${recall}`)
  t.diagnostic(`MIPS recall@${K} at the default ef against numpy's exact answers: ${recall.toFixed(4)}`)

  // The evaluation ran on the held-out file: the learned codes keep most of the factors' recall.
  const report = JSON.parse(await readFile(join(out, 'eval.json'), 'utf8')) as { variants: { name: string, recall: number }[] }
  const recallOf = (prefix: string): number => report.variants.find((v) => v.name.startsWith(prefix))!.recall
  assert.ok(recallOf('external factors') > 2 * recallOf('popularity'))
  assert.ok(recallOf('learned codes') > 0.7 * recallOf('external factors'))
})

test('with --codes sign the served Hamming answers equal numpy\'s from sign(factors) alone', { skip: SKIP }, async (t) => {
  const { src, root, factorArgs } = await fixture(t)
  const out = join(root, 'sign')
  const run = bundle([...factorArgs, '--interactions', join(src, 'train.csv'), '--codes', 'sign', '--out', out])
  assert.equal(run.status, 0, run.stderr)
  const want = numpyAnswers(src, out)
  assert.deepEqual(want.hammingBundleCodes, want.hammingSignCodes, 'the bundle\'s codes are sign(factors)')
  assert.deepEqual(await served(t, root, out, 'hamming', want.users), want.hammingSignCodes)
})

test('bad input exits with code 2 and a message naming the problem, and writes no bundle', { skip: SKIP }, async (t) => {
  const { src, root, factorArgs } = await fixture(t)
  const out = join(root, 'never')
  const withItems = (file: string): string[] => factorArgs.map((a) => a === join(src, 'item_factors.npy') ? join(src, file) : a)
  const shortIds = join(root, 'short.csv')
  await writeFile(shortIds, 'item-0\nitem-1\n')
  const dupIds = join(root, 'dup.csv')
  await writeFile(dupIds, (await readFile(join(src, 'items.csv'), 'utf8')).replace('item-7\n', 'item-6\n'))
  const truncated = join(root, 'truncated.npy')
  await writeFile(truncated, (await readFile(join(src, 'item_factors.npy'))).subarray(0, 5000))
  const cases: [string[], RegExp][] = [
    [[...withItems('bad_fortran.npy'), '--out', out], /fortran_order is True/],
    [[...withItems('bad_f16.npy'), '--out', out], /dtype <f2: expected little-endian float32/],
    [[...withItems('bad_3d.npy'), '--out', out], /expected a 2-D matrix/],
    [[...withItems('bad_nan.npy'), '--out', out], /row 5, column 3 is NaN/],
    [[...factorArgs.map((a) => a === join(src, 'item_factors.npy') ? truncated : a), '--out', out], /needs 768000 data bytes, the file has/],
    [[...factorArgs.map((a) => a === join(src, 'items.csv') ? shortIds : a), '--out', out], /has 3000 item rows but .*short\.csv lists 2 ids/],
    [[...factorArgs.map((a) => a === join(src, 'items.csv') ? dupIds : a), '--out', out], /id "item-6" appears on lines 8 and 9/],
    [[...factorArgs, '--test', join(src, 'test.csv'), '--out', out], /--test: --test needs --interactions/],
    [[...factorArgs, '--bits', '48', '--out', out], /--bits:/],
    [[...factorArgs, '--alpha', '3', '--out', out], /give both --alpha and --reg/],
    [[...factorArgs, '--out', out, '--frobnicate', '1'], /Unknown option '--frobnicate'/],
    [[...factorArgs], /--out: /],
    [[...factorArgs, '--codes', 'sign', '--bits', '128', '--out', out], /128 bits need a dimension of at least 128/],
  ]
  for (const [args, message] of cases) {
    const r = bundle(args)
    assert.equal(r.status, 2, `${args.join(' ')}\n${r.stderr}`)
    assert.match(r.stderr, message)
  }
  await assert.rejects(readFile(join(out, 'manifest.json')), /ENOENT/)
})
