import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { main, parseTrainerArgs } from '../../src/trainer/cli.js'
import { dotScorer, evaluateScores } from '../../src/trainer/evaluate.js'
import { solveUsers } from '../../src/trainer/variant.js'
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
      ...DEFAULT_TRAINER_OPTIONS, input, out, items: join(dir, 'items.csv'), dimension: 32, bits: 32, epochs: 4, threads: 1, budget: 0.1, refit: false, log: () => {},
    })
    assert.deepEqual(report.variants.map((v) => v.kind), ['popularity', 'full', 'table', 'codes', 'codes', 'two-stage'])
    for (const f of ['eval.json', 'eval.md', 'eval.svg']) assert.ok(manifest.files[f], f)
    assert.match(await readFile(join(out, 'eval.md'), 'utf8'), /\| items l2c, users solved, 10(\.\d)?% \(I8\) \(served\) \|/)
    assert.match(await readFile(join(out, 'eval.svg'), 'utf8'), /^<svg[^>]+>[\s\S]*<polyline[^>]+stroke="#ff7f0e"[\s\S]*<circle/)
    assert.ok(Array.isArray((manifest.training.eval as { variants: unknown[] }).variants))
    const served = report.variants.find((v) => v.name === report.served)!
    assert.equal(report.selection.mode, 'fixed')
    assert.ok(served.share <= 0.1 + 1e-9 && served.share > 0.07, `share ${served.share}`)

    const model = await loadModel(out)
    assert.equal(model.codeBits, 32)
    assert.deepEqual({ title: model.itemMeta.title(model.items.rowOf('i0')!), tags: model.itemMeta.tags(model.items.rowOf('i0')!) }, { title: 'Zero, the item', tags: ['A', 'B'] })
    assert.equal(model.itemMeta.tags(model.items.rowOf('i1')!), undefined)
    assert.ok(model.hnsw !== null && model.hnsw.source === 'file')
    assert.equal(model.manifest.tables.item.learnedMapping?.kind, 'learned-hash')
    assert.equal(model.manifest.tables.user.vectors, 'solved')
    assert.equal(model.manifest.dtypes.embeddings, 'I8')
    // The default method is the one the evaluation chose, and requests naming none get it.
    assert.equal(model.manifest.serving?.defaultMethod, report.serving!.method)
    assert.equal(report.serving!.method === 'hybrid', report.serving!.hybridRatio >= 0.98)

    // Re-evaluate from the loaded bundle on the same split: item vectors as loaded, users solved the
    // way the service solves them; the served row of the report must be reproduced.
    const log = await readInteractions(input)
    const { train, test: held } = splitByTime(log)
    const d = model.dimension
    const items = new Float32Array(log.itemIds.length * d)
    log.itemIds.forEach((id, i) => items.set(model.itemVectors.subarray(model.items.rowOf(id)! * d, (model.items.rowOf(id)! + 1) * d), i * d))
    const users = solveUsers(train, items, d, model.foldIn)
    const m = evaluateScores(train, held, 20, dotScorer(users, items, d))
    assert.ok(Math.abs(m.recallFull - served.recall) < 1e-9, `${m.recallFull} vs ${served.recall}`)
    assert.ok(Math.abs(m.ndcg - served.ndcg) < 1e-9)
    assert.equal(model.users.size, log.userIds.length)

    // Seen items per listed user are exactly that user's training items; fold-in uses the training constants.
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
    const { report, manifest } = await runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, out, dimension: 8, bits: 32, epochs: 2, threads: 1, scope: 'served', budget: 0.5, deepRetrieval: false, log: () => {} })
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
      await runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, out, dimension: 8, bits: 32, epochs: 3, threads: 1, scope: 'served', budget: 0.5, seed: 77, log: () => {} })
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
  assert.equal(o.scope, 'served')
  assert.equal(o.read?.ratingColumn, 2)
  assert.equal(o.read?.minRating, 3.5)
  assert.throws(() => parseTrainerArgs(['--input', 'a.csv', '--out', 'm', '--bits', '48']), TrainerInputError)
  assert.throws(() => parseTrainerArgs(['--out', 'm']), /--input/)
  assert.throws(() => parseTrainerArgs(['--input', 'a', '--out', 'm', '--bogus']), TrainerInputError)
  assert.deepEqual(o.deepRetrieval, {})
  const d = parseTrainerArgs(['--input', 'a', '--out', 'm'])
  assert.deepEqual({ budget: d.budget, mapping: d.mapping, userVectors: d.userVectors, dtype: d.dtype, refit: d.refit, scope: d.scope, test: d.test, k: d.k }, { budget: 'auto', mapping: 'l2c', userVectors: 'solved', dtype: 'I8', refit: true, scope: 'mapping', test: undefined, k: 20 })
  const q = parseTrainerArgs(['--input', 'a', '--out', 'm', '--dedicated-share', '0.7', '--max-bytes', '5000', '--mapping', 'baco', '--users', 'stored', '--dtype', 'f32', '--no-refit', '--test', 't.csv', '--frontier'])
  assert.equal(q.dedicatedShare, 0.7)
  assert.deepEqual({ budget: q.budget, mapping: q.mapping, userVectors: q.userVectors, dtype: q.dtype, refit: q.refit, scope: q.scope, test: q.test }, { budget: { maxBytes: 5000 }, mapping: 'baco', userVectors: 'stored', dtype: 'F32', refit: false, scope: 'all', test: 't.csv' })
  for (const bad of [['--budget', '0'], ['--budget', '1.5'], ['--budget', 'most'], ['--mapping', 'lsh'], ['--users', 'none'], ['--dtype', 'f8'], ['--max-bytes', '0'], ['--max-bytes', '10', '--budget', '0.5'], ['--fast', '--frontier'], ['--refit']]) {
    assert.throws(() => parseTrainerArgs(['--input', 'a', '--out', 'm', ...bad]), TrainerInputError, bad.join(' '))
  }
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
    // Users are solved at serving time by default: every user is listed with their items, none stores a vector.
    assert.equal(model.users.size, 40)
    assert.equal(manifest.tables.user.vectors, 'solved')
    assert.equal(manifest.tables.user.dedicatedRows, 0)
  })
})

test('runTrainer refits by default: the exported model is trained on every interaction (popularity counts the test part too)', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'log.csv')
    await writeFile(input, syntheticLog({ users: 50, items: 80, clusters: 2, perUser: 15, seed: 6 }).csv)
    const common = { ...DEFAULT_TRAINER_OPTIONS, input, dimension: 8, bits: 32 as const, epochs: 3, threads: 1, scope: 'served' as const, budget: 0.5, log: () => {} }
    await runTrainer({ ...common, out: join(dir, 'split'), refit: false })
    const { report } = await runTrainer({ ...common, out: join(dir, 'refit') })
    assert.match(report.servedModel, /refit on every interaction/)
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

test('--budget auto serves the smallest budget within 2% of the full model, having tried the smaller ones first', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'log.csv')
    await writeFile(input, syntheticLog({ users: 120, items: 300, clusters: 6, perUser: 20, noise: 0.1, seed: 9 }).csv)
    const { report } = await runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, out: join(dir, 'b'), dimension: 16, bits: 32, epochs: 4, threads: 1, deepRetrieval: false, log: () => {} })
    const full = report.variants.find((v) => v.kind === 'full')!
    const tried = report.variants.filter((v) => v.kind === 'table' && (v.mapping === 'l2c' || v.mapping === 'none'))
    const served = report.variants.find((v) => v.name === report.served)!
    assert.equal(report.selection.mode, 'auto')
    assert.ok(served.recall >= 0.98 * full.recall, `${served.recall} vs full ${full.recall}`)
    for (const v of tried) if (v.budget! < served.budget!) assert.ok(v.recall < 0.98 * full.recall, `${v.name} would have been chosen`)
    // Tried from the smallest budget up: nothing above the chosen one.
    assert.ok(tried.every((v) => v.budget! <= served.budget!))
    assert.equal(report.selection.ofFullRecall, served.recall / full.recall)
  })
})

test('--max-bytes caps what produces the vectors; a cap that cannot hold the item table is bad input', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'log.csv')
    await writeFile(input, syntheticLog({ users: 60, items: 200, clusters: 3, perUser: 15, seed: 5 }).csv)
    const common = { ...DEFAULT_TRAINER_OPTIONS, input, dimension: 8, bits: 32 as const, epochs: 2, threads: 1, deepRetrieval: false as const, log: () => {} }
    const { report, manifest } = await runTrainer({ ...common, out: join(dir, 'b'), budget: { maxBytes: 1200 } })
    const served = report.variants.find((v) => v.name === report.served)!
    assert.equal(report.selection.mode, 'max-bytes')
    assert.ok(served.bytes <= 1200, `${served.bytes}`)
    // What the bundle stores for vectors is what was counted: int8 item rows (a float32 scale each) plus the mapping array.
    const { item } = manifest.tables
    assert.equal((item.dedicatedRows + item.sharedRows) * (8 + 4) + (item.learnedMapping ? manifest.counts.items * 2 : 0), served.bytes) // U16 row indices
    await assert.rejects(runTrainer({ ...common, out: join(dir, 'c'), budget: { maxBytes: 100 } }), TrainerInputError)
  })
})

test('--test evaluates on a given file: unseen ids are counted, every input row trains the served model', async () => {
  await withTmp(async (dir) => {
    const input = join(dir, 'train.csv')
    const log = syntheticLog({ users: 50, items: 90, clusters: 3, perUser: 12, seed: 11 })
    await writeFile(input, log.csv)
    const rows = log.csv.trim().split('\n').slice(1, 41).map((l) => l.split(','))
    const testLines = ['user,item,rating,timestamp', ...rows.map(([u, i, r, t]) => [u, i, r, t].join(',')), 'nobody,i1,1,1', 'u1,never-seen,1,1', 'u2,i5,1,1']
    await writeFile(join(dir, 'test.csv'), testLines.join('\n') + '\n')
    const { report, manifest } = await runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, test: join(dir, 'test.csv'), out: join(dir, 'b'), dimension: 8, bits: 32, epochs: 2, threads: 1, scope: 'served', budget: 0.5, deepRetrieval: false, log: () => {} })
    const skipped = report.dataset.skippedTestRows as { unknownUser: number, unknownItem: number, alreadyInTrain: number }
    assert.equal(skipped.unknownUser, 1)
    assert.equal(skipped.unknownItem, 1)
    assert.ok(skipped.alreadyInTrain >= 40, `${skipped.alreadyInTrain}`) // the first 40 rows are training rows too
    assert.match(report.split, /given test file/)
    assert.match(report.servedModel, /every input interaction was training data/)
    assert.equal(report.dataset.trainInteractions, (await readInteractions(input)).count)
    assert.equal((manifest.training.options as { refit: boolean }).refit, true)
    // A test file that cannot be read is bad input, named.
    await assert.rejects(runTrainer({ ...DEFAULT_TRAINER_OPTIONS, input, test: join(dir, 'missing.csv'), out: join(dir, 'c'), threads: 1, scope: 'served', budget: 0.5, deepRetrieval: false, log: () => {} }), (err: unknown) => err instanceof TrainerInputError && /--test .*missing\.csv/.test(err.message))
  })
})
