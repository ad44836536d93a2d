import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { main, parseTrainerArgs } from '../../src/trainer/cli.js'
import { dotScorer, evaluateScores } from '../../src/trainer/evaluate.js'
import { DEFAULT_TRAINER_OPTIONS, runTrainer } from '../../src/trainer/pipeline.js'
import { trainDefaultModel } from '../../src/trainer/default-model.js'
import { readInteractions, TrainerInputError } from '../../src/trainer/read-interactions.js'
import { splitByTime } from '../../src/trainer/split.js'
import { evaluateDeepRetrieval } from '../../src/trainer/deep-retrieval/evaluate.js'
import { createDeepRetrievalIndex } from '../../src/search/deep-retrieval/engine.js'
import { syntheticLog } from './helpers/synthetic-log.js'

async function withTmp (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hashrec-trainer-'))
  try { await fn(dir) } finally { await rm(dir, { recursive: true, force: true }) }
}

test('runTrainer exports a bundle that loads and serves exactly the evaluated model', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'log.csv')
    await writeFile(input, syntheticLog({ users: 90, items: 160, clusters: 4, perUser: 20, seed: 2 }).csv)
    await writeFile(join(dir, 'items.csv'), 'itemId,title,genres\ni0,"Zero, the item",A|B\ni1,One,(no genres listed)\n')
    const out = join(dir, 'bundle')
    const { report, manifest } = await runTrainer({
      ...DEFAULT_TRAINER_OPTIONS, input, out, items: join(dir, 'items.csv'), dimension: 32, bits: 32, epochs: 4, threads: 1, budget: 0.5, report: true, log: () => {},
    })
    assert.deepEqual(report.variants.map((v) => v.kind), ['popularity', 'mf', 'hashed-mf', 'hashed-mf', 'hashed-mf', 'codes', 'codes', 'two-stage'])
    for (const f of ['eval.json', 'eval.md', 'eval.svg']) assert.ok(manifest.files[f], f)
    assert.match(await readFile(join(out, 'eval.md'), 'utf8'), /\| hashed MF 50% \(served\) \|/)
    assert.match(await readFile(join(out, 'eval.svg'), 'utf8'), /^<svg[^>]+>[\s\S]*<circle/)
    assert.ok(Array.isArray((manifest.training.eval as { variants: unknown[] }).variants))

    const model = await loadModel(out)
    assert.equal(model.codeBits, 32)
    assert.deepEqual({ title: model.itemMeta.title(model.items.rowOf('i0')!), tags: model.itemMeta.tags(model.items.rowOf('i0')!) }, { title: 'Zero, the item', tags: ['A', 'B'] })
    assert.equal(model.itemMeta.tags(model.items.rowOf('i1')!), undefined)
    assert.ok(model.hnsw !== null && model.hnsw.source === 'file')
    assert.ok(model.manifest.tables.item.sharedRows > 0)

    // Re-evaluate from the loaded bundle on the same split: the served row of the report must be reproduced.
    const log = await readInteractions(input)
    const { train, test: held } = splitByTime(log)
    const d = model.dimension
    const users = new Float32Array(log.userIds.length * d)
    log.userIds.forEach((id, u) => model.userTable.resolveInto(id, users, u * d))
    const items = new Float32Array(log.itemIds.length * d)
    log.itemIds.forEach((id, i) => items.set(model.itemVectors.subarray(model.items.rowOf(id)! * d, (model.items.rowOf(id)! + 1) * d), i * d))
    const served = report.variants.find((v) => v.name === report.served)!
    const m = evaluateScores(train, held, 10, dotScorer(users, items, d))
    assert.ok(Math.abs(m.recall - served.recall) < 1e-9, `${m.recall} vs ${served.recall}`)
    assert.ok(Math.abs(m.ndcg - served.ndcg) < 1e-9)

    // Seen items per dedicated user are exactly that user's training items; fold-in uses the training constants.
    assert.ok(model.userSeen)
    const userIndex = new Map(log.userIds.map((id, u) => [id, u]))
    for (let row = 0; row < model.users.size; row++) {
      const u = userIndex.get(model.users.idAt(row))!
      const expected = [...train.indices.subarray(train.indptr[u], train.indptr[u + 1])].map((i) => log.itemIds[i]).sort()
      const got = [...model.userSeen.items.subarray(model.userSeen.indptr[row], model.userSeen.indptr[row + 1])].map((r) => model.items.idAt(r)).sort()
      assert.deepEqual(got, expected)
    }
    assert.deepEqual(model.foldIn, { alpha: DEFAULT_TRAINER_OPTIONS.alpha, reg: DEFAULT_TRAINER_OPTIONS.reg, regExponent: DEFAULT_TRAINER_OPTIONS.regExponent })

    // The Deep Retrieval structure is built by default, reported, and the exported one is the evaluated one:
    // the loaded bundle's structure reproduces the report's Recall@20 at the served beam.
    const dr = report.deepRetrieval!
    assert.ok(model.deepRetrieval !== null)
    assert.equal(model.deepRetrieval.beam, dr.servedBeam)
    assert.match(await readFile(join(out, 'eval.md'), 'utf8'), /## Deep Retrieval \(K=\d+, D=3, J=3, linear layers/)
    assert.match(await readFile(join(out, 'eval.svg'), 'utf8'), /Deep Retrieval: Recall@20 against items scored[\s\S]*<polyline/)
    const J = model.deepRetrieval.network.shape.pathsPerItem
    const keys = new Int32Array(log.itemIds.length * J)
    log.itemIds.forEach((id, i) => keys.set(model.deepRetrieval!.itemKeys.subarray(model.items.rowOf(id)! * J, (model.items.rowOf(id)! + 1) * J), i * J))
    const again = evaluateDeepRetrieval({
      dimension: d, userVectors: users, itemVectors: items, train, test: held, index: createDeepRetrievalIndex(model.deepRetrieval.network, keys, log.itemIds.length, dr.servedBeam),
      beams: [dr.servedBeam], k: 20, maxBeam: 1024,
    })
    const servedPoint = dr.beams.find((b) => b.beam === dr.servedBeam)!
    assert.equal(again.beams[0].recall, servedPoint.recall)
    assert.equal(again.beams[0].candidates, servedPoint.candidates)
    assert.equal(again.exhaustive.recall, dr.exhaustive.recall)
  })
})

test('runTrainer --no-deep-retrieval exports a bundle without the structure and reports none', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'log.csv')
    await writeFile(input, syntheticLog({ users: 40, items: 60, clusters: 2, perUser: 10, seed: 3 }).csv)
    const out = join(dir, 'b')
    const { report, manifest } = await runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, out, dimension: 8, bits: 32, epochs: 2, threads: 1, report: false, deepRetrieval: false, log: () => {} })
    assert.equal(report.deepRetrieval, undefined)
    assert.equal(manifest.deepRetrieval, undefined)
    assert.equal((await loadModel(out)).deepRetrieval, null)
  })
})

test('runTrainer with one thread and a seed writes identical tensors twice', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'log.tsv')
    await writeFile(input, syntheticLog({ users: 60, items: 100, clusters: 3, perUser: 15, seed: 4, delimiter: '\t' }).csv)
    const run = async (out: string): Promise<Buffer> => {
      await runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, out, dimension: 8, bits: 32, epochs: 3, threads: 1, report: false, seed: 77, log: () => {} })
      return await readFile(join(out, 'tensors.safetensors'))
    }
    const a = await run(join(dir, 'a'))
    const b = await run(join(dir, 'b'))
    assert.ok(a.equals(b))
  })
})

test('the CLI exits with status 2 and names the lines when a file has too many bad rows', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'bad.csv')
    await writeFile(input, 'user,item,rating\na,x,1\nb,y,zzz\nc\nd,w,4\n')
    const messages: string[] = []
    const write = process.stderr.write
    process.stderr.write = ((chunk: string) => { messages.push(String(chunk)); return true }) as typeof process.stderr.write
    let code: number
    try {
      code = await main(['--input', input, '--out', join(dir, 'out'), '--threads', '1'])
    } finally {
      process.stderr.write = write
    }
    assert.equal(code, 2)
    assert.match(messages.join(''), /2 of 4 data rows are malformed.*line 3.*line 4/)
  })
})

test('parseTrainerArgs validates flags and maps them onto trainer options', () => {
  const o = parseTrainerArgs(['--input', 'a.csv', '--out', 'm', '--bits', '128', '--budget', '0.25', '--rating-col', '2', '--min-rating', '3.5', '--fast'])
  assert.equal(o.bits, 128)
  assert.equal(o.budget, 0.25)
  assert.equal(o.report, false)
  assert.equal(o.read?.ratingColumn, 2)
  assert.equal(o.read?.minRating, 3.5)
  assert.throws(() => parseTrainerArgs(['--input', 'a.csv', '--out', 'm', '--bits', '48']), TrainerInputError)
  assert.throws(() => parseTrainerArgs(['--out', 'm']), /--input/)
  assert.throws(() => parseTrainerArgs(['--input', 'a', '--out', 'm', '--bogus']), TrainerInputError)
  assert.deepEqual(o.deepRetrieval, {})
  const dr = parseTrainerArgs(['--input', 'a', '--out', 'm', '--dr-width', '40', '--dr-depth', '2', '--dr-paths', '2', '--dr-hidden', '32', '--dr-embedding', '8', '--dr-rounds', '1', '--dr-epochs', '3', '--dr-penalty', '0.001', '--dr-beam', '50'])
  assert.deepEqual(dr.deepRetrieval, { width: 40, depth: 2, pathsPerItem: 2, hidden: 32, embeddingDimension: 8, rounds: 1, epochs: 3, penalty: 0.001, beam: 50 })
  assert.equal(parseTrainerArgs(['--input', 'a', '--out', 'm', '--no-deep-retrieval']).deepRetrieval, false)
  for (const bad of [['--dr-width', '1'], ['--dr-beam', '5000'], ['--dr-depth', '0'], ['--dr-paths', '17'], ['--dr-penalty', '-1']]) {
    assert.throws(() => parseTrainerArgs(['--input', 'a', '--out', 'm', ...bad]), TrainerInputError, bad.join(' '))
  }
})

test('a Deep Retrieval shape the trainer cannot build fails as bad input before any training', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'log.csv')
    await writeFile(input, syntheticLog({ users: 20, items: 30, clusters: 2, perUser: 5, seed: 1 }).csv)
    await assert.rejects(runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, out: join(dir, 'b'), threads: 1, deepRetrieval: { width: 300, depth: 3 }, log: () => {} }), (err: unknown) => err instanceof TrainerInputError && /exceeds the trainer's/.test(err.message))
    await assert.rejects(runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, out: join(dir, 'b'), threads: 1, deepRetrieval: { width: 2, pathsPerItem: 3 }, log: () => {} }), (err: unknown) => err instanceof TrainerInputError && /3 paths per item need at least as many nodes per layer, got 2/.test(err.message))
  })
})

test('trainDefaultModel trains ratings.csv + movies.csv of a data folder into a loadable bundle', async () => {
  await withTmp(async (dir) => {
    const csv = syntheticLog({ users: 40, items: 70, clusters: 2, perUser: 12, seed: 8 }).csv.replace('user,item,rating,timestamp', 'userId,movieId,rating,timestamp')
    await writeFile(join(dir, 'ratings.csv'), '\uFEFF' + csv)
    await writeFile(join(dir, 'movies.csv'), 'movieId,title,genres\ni3,Three (1999),Drama\n')
    const out = join(dir, 'models', 'default')
    const { manifest } = await trainDefaultModel({ dataDir: dir, outDir: out, fast: true, threads: 1 })
    assert.equal(manifest.model.id, 'default')
    assert.equal(manifest.codeBits, 64)
    const model = await loadModel(out)
    assert.equal(model.itemMeta.title(model.items.rowOf('i3')!), 'Three (1999)')
    // 10% of (40 + 70) rows cannot give every user a row: the user table is hashed too.
    assert.equal(model.users.size, manifest.tables.user.dedicatedRows)
    assert.ok(manifest.tables.user.sharedRows > 0)
    const v = new Float32Array(model.dimension)
    assert.equal(model.userTable.resolveInto('u39', v), model.users.rowOf('u39') === undefined ? 'hashed' : 'dedicated')
  })
})

test('runTrainer with refit exports a model trained on every interaction (popularity counts the test part too)', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'log.csv')
    await writeFile(input, syntheticLog({ users: 50, items: 80, clusters: 2, perUser: 15, seed: 6 }).csv)
    const common = { ...DEFAULT_TRAINER_OPTIONS, input, dimension: 8, bits: 32 as const, epochs: 3, threads: 1, report: false, log: () => {} }
    await runTrainer({ ...common, out: join(dir, 'split') })
    await runTrainer({ ...common, out: join(dir, 'refit'), refit: true })
    const log = await readInteractions(input)
    const refitOf = async (d: string): Promise<unknown> => ((await loadModel(d)).manifest.training as { options: { refit: boolean } }).options.refit
    const popularity = async (d: string): Promise<number> => {
      const { parseSafetensors, viewTensor } = await import('../../src/model-loader/safetensors.js')
      const bytes = await readFile(join(d, 'tensors.safetensors'))
      const info = parseSafetensors(bytes).tensors.get('item_popularity')!
      return viewTensor(bytes, info, Float32Array).reduce((a, b) => a + b, 0)
    }
    const { train } = splitByTime(log)
    assert.equal(await popularity(join(dir, 'split')), train.indptr[train.rows])
    assert.equal(await popularity(join(dir, 'refit')), log.count)
    assert.equal(await refitOf(join(dir, 'split')), false)
    assert.equal(await refitOf(join(dir, 'refit')), true)
  })
})
