import { loadSplit } from './data.js'
import { trainIals } from './ials.js'
import { evaluate, dotScorer, hammingScorer, twoStageScorer, topK } from './metrics.js'
import { packCodes, signCodes } from '../../src/bundle-format/codes.js'

const data = loadSplit('data/ml-latest-small/ratings.csv')
console.log(data.users, data.items, data.train.indptr[data.users], data.test.indptr[data.users])
const pop = new Float64Array(data.items)
for (let p = 0; p < data.train.indptr[data.users]!; p++) pop[data.train.indices[p]!]!++
console.log('pop', evaluate(data.train, data.test, (_u, s, skip, mark, out) => { s.set(pop); return topK(s, out.length, skip, mark, out) }))
for (const [alpha, reg, it] of JSON.parse(process.argv[2] ?? '[[10,1,10]]') as [number, number, number][]) {
  const t = performance.now()
  const m = trainIals(data.train, { dim: 64, alpha, reg, iterations: it, seed: 1 })
  const real = evaluate(data.train, data.test, dotScorer(m.userVectors, m.itemVectors, 64))
  const uc = packCodes(signCodes(m.userVectors, data.users, 64), data.users, 64)
  const ic = packCodes(signCodes(m.itemVectors, data.items, 64), data.items, 64)
  const sg = evaluate(data.train, data.test, hammingScorer(uc, ic, 64))
  const ts = evaluate(data.train, data.test, twoStageScorer(uc, ic, 64, m.userVectors, m.itemVectors, 64))
  console.log({ alpha, reg, it, ms: Math.round(performance.now() - t), real: real.recall.toFixed(4), sign: sg.recall.toFixed(4), twoStage: ts.recall.toFixed(4) })
}
