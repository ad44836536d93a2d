import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { csrFromPairs, csrHas } from '../../../src/trainer/csr.js'
import { createRng, fitScale, learnCodes, sideStats, updateSideStats, withTeacherPositives, type LearnCodesInput, type LearnedCodes } from '../../../src/trainer/codes/learn-codes.js'
import { unpackCodes } from '../../../src/bundle-format/codes.js'
import { plantedClusters, type Planted } from './planted.js'

const PLANTED = { clusters: 6, usersPerCluster: 30, itemsPerCluster: 30, perUser: 10, dim: 32, noise: 1, seed: 7 }

function inputFor (p: Planted, bits: 32 | 64 | 128, extra: Partial<LearnCodesInput> = {}): LearnCodesInput {
  return { users: p.users, items: p.items, dimension: p.dim, bits, userVectors: p.userVectors, itemVectors: p.itemVectors, train: p.train, seed: 11, threads: 1, ...extra }
}

/**
 * For each user, the share of its Hamming top-n items outside train (n = the unseen items of its
 * cluster) that belong to its cluster: 1 when the codes rank the planted structure perfectly,
 * 1/clusters for random codes.
 */
function clusterPrecision (p: Planted, codes: LearnedCodes, bits: number): number {
  const uc = unpackCodes(codes.userCodes, p.users, bits)
  const ic = unpackCodes(codes.itemCodes, p.items, bits)
  const n = PLANTED.itemsPerCluster - PLANTED.perUser
  let total = 0
  for (let u = 0; u < p.users; u++) {
    const ranked: [number, number][] = []
    for (let i = 0; i < p.items; i++) {
      if (csrHas(p.train, u, i)) continue
      let h = 0
      for (let k = 0; k < bits; k++) h += uc[u * bits + k]! * ic[i * bits + k]!
      ranked.push([h, i])
    }
    ranked.sort((x, y) => y[0] - x[0] || x[1] - y[1])
    total += ranked.slice(0, n).filter(([, i]) => p.itemCluster[i] === p.userCluster[u]).length / n
  }
  return total / p.users
}

test('learnCodes recovers planted clusters from the interactions alone when sign() of the noisy vectors does not', async () => {
  const p = plantedClusters(PLANTED)
  const baseline = clusterPrecision(p, await learnCodes(inputFor(p, 32, { options: { sweeps: 0, itqIterations: 0 } })), 32)
  // No distillation, no teacher positives: the vectors are noise here, the interactions hold the structure.
  const learned = clusterPrecision(p, await learnCodes(inputFor(p, 32, { options: { distill: 0, teacherTopK: 0 } })), 32)
  // Measured: baseline 0.137 (chance is 1/6), learned 0.80.
  assert.ok(baseline < 0.3, `baseline precision ${baseline}`)
  assert.ok(learned > 0.7, `learned precision ${learned}`)
})

/** Mean share of each user's real-valued top-5 unseen items that are in its Hamming top-5. */
function agreementWithReal (p: Planted, codes: LearnedCodes, bits: number, n = 5): number {
  const uc = unpackCodes(codes.userCodes, p.users, bits)
  const ic = unpackCodes(codes.itemCodes, p.items, bits)
  const top = (score: (u: number, i: number) => number, u: number): number[] => {
    const ranked: [number, number][] = []
    for (let i = 0; i < p.items; i++) if (!csrHas(p.train, u, i)) ranked.push([score(u, i), i])
    return ranked.sort((x, y) => y[0] - x[0] || x[1] - y[1]).slice(0, n).map(([, i]) => i)
  }
  const hamming = (u: number, i: number): number => { let h = 0; for (let k = 0; k < bits; k++) h += uc[u * bits + k]! * ic[i * bits + k]!; return h }
  const real = (u: number, i: number): number => { let s = 0; for (let q = 0; q < p.dim; q++) s += p.userVectors[u * p.dim + q]! * p.itemVectors[i * p.dim + q]!; return s }
  let total = 0
  for (let u = 0; u < p.users; u++) {
    const want = new Set(top(real, u))
    total += top(hamming, u).filter((i) => want.has(i)).length / n
  }
  return total / p.users
}

test('learnCodes carries item popularity, which sign() of the real vectors loses, into the Hamming ranking', async () => {
  // Items of a cluster share a direction and differ in length (popularity), as in a trained MF model.
  const p = plantedClusters({ clusters: 4, usersPerCluster: 30, itemsPerCluster: 30, perUser: 6, dim: 32, noise: 0.05, seed: 7, popularity: true })
  const baseline = agreementWithReal(p, await learnCodes(inputFor(p, 32, { options: { sweeps: 0, itqIterations: 0 } })), 32)
  const dataOnly = agreementWithReal(p, await learnCodes(inputFor(p, 32, { options: { distill: 0, teacherTopK: 0 } })), 32)
  const learned = agreementWithReal(p, await learnCodes(inputFor(p, 32)), 32)
  // Measured: baseline 0.075, interactions only 0.43, default (distillation and teacher positives) 0.77.
  assert.ok(baseline < 0.2, `baseline agreement ${baseline}`)
  assert.ok(dataOnly > baseline + 0.2, `interactions-only agreement ${dataOnly}`)
  assert.ok(learned > 0.75 && learned > dataOnly, `default agreement ${learned}`)
})

test('learnCodes returns packed codes of bits/8 bytes per row and a dimension x bits projection, for 32, 64 and 128 bits', async () => {
  const p = plantedClusters({ ...PLANTED, usersPerCluster: 5, itemsPerCluster: 8, perUser: 4, dim: 16, noise: 0.2 })
  for (const bits of [32, 64, 128] as const) {
    const c = await learnCodes(inputFor(p, bits))
    assert.equal(c.userCodes.length, p.users * bits / 8)
    assert.equal(c.itemCodes.length, p.items * bits / 8)
    assert.equal(c.userCodeProjection?.length, p.dim * bits)
  }
})

test('learnCodes with a seed and one thread gives identical tensors on every run', async () => {
  const p = plantedClusters(PLANTED)
  const a = await learnCodes(inputFor(p, 64))
  const b = await learnCodes(inputFor(p, 64))
  assert.deepEqual(b.userCodes, a.userCodes)
  assert.deepEqual(b.itemCodes, a.itemCodes)
  assert.deepEqual(b.userCodeProjection, a.userCodeProjection)
  const other = await learnCodes(inputFor(p, 64, { seed: 12 }))
  assert.notDeepEqual(other.itemCodes, a.itemCodes, 'the seed should matter for the 64-bit rotation from 32 dimensions')
})

test('learnCodes with two worker threads writes exactly the codes of the single-thread run', async () => {
  const p = plantedClusters(PLANTED)
  const single = await learnCodes(inputFor(p, 32))
  // Small minibatches, and a loaded worker from the start, so that both threads take many
  // interleaved slices of each side.
  const logs: string[] = []
  const threaded = await learnCodes(inputFor(p, 32, { threads: 2, log: (m) => logs.push(m), options: { batch: 4, waitForWorkers: true } }))
  const split = logs.map((m) => /main thread updated (\d+) of (\d+) rows/.exec(m)).find((m) => m !== null)
  assert.ok(split !== undefined, 'no thread split in the log')
  assert.ok(Number(split[1]) < Number(split[2]), `the worker updated no rows (${split[0]})`)
  assert.deepEqual(threaded.userCodes, single.userCodes)
  assert.deepEqual(threaded.itemCodes, single.itemCodes)
})

test('the user code projection maps a user vector to most of its learned code bits', async () => {
  const p = plantedClusters({ ...PLANTED, noise: 0.3 })
  const c = await learnCodes(inputFor(p, 32))
  const codes = unpackCodes(c.userCodes, p.users, 32)
  const proj = c.userCodeProjection!
  let agree = 0
  for (let u = 0; u < p.users; u++) {
    for (let k = 0; k < 32; k++) {
      let s = 0
      for (let q = 0; q < p.dim; q++) s += p.userVectors[u * p.dim + q]! * proj[q * 32 + k]!
      if ((s >= 0 ? 1 : -1) === codes[u * 32 + k]) agree++
    }
  }
  assert.ok(agree / (p.users * 32) > 0.8, `agreement ${agree / (p.users * 32)}`)
})

test('learnCodes rejects unsupported bit counts, arrays that do not match the declared sizes and bad options', async () => {
  const p = plantedClusters({ ...PLANTED, usersPerCluster: 2, itemsPerCluster: 3, perUser: 2 })
  await assert.rejects(learnCodes({ ...inputFor(p, 32), bits: 48 as 32 }), /bits must be 32, 64 or 128/)
  await assert.rejects(learnCodes({ ...inputFor(p, 32), users: p.users + 1 }), RangeError)
  await assert.rejects(learnCodes({ ...inputFor(p, 32), itemVectors: new Float32Array(3) }), RangeError)
  await assert.rejects(learnCodes(inputFor(p, 32, { options: { sweeps: -1 } })), /sweeps/)
  await assert.rejects(learnCodes(inputFor(p, 32, { options: { sweep: 3 } as never })), /sweep/)
})

test('learnCodes learns the same codes when the real vectors are rescaled, since distillation targets are rescaled to the data', async () => {
  const p = plantedClusters(PLANTED)
  const base = await learnCodes(inputFor(p, 32))
  // Powers of two keep every product and sum exact, so any difference would be a real scale dependence.
  const scaled = await learnCodes(inputFor(p, 32, { userVectors: p.userVectors.map((x) => x * 4), itemVectors: p.itemVectors.map((x) => x / 2) }))
  assert.deepEqual(scaled.userCodes, base.userCodes)
  assert.deepEqual(scaled.itemCodes, base.itemCodes)
})

test('incrementally updated code statistics equal the ones recomputed from scratch after random flips', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom(32, 64), (seed, bits) => {
    const next = createRng(seed)
    const rows = 20; const dim = 5
    const codes = Int8Array.from({ length: rows * bits }, () => (next() < 0.5 ? 1 : -1))
    const vectors = Float32Array.from({ length: rows * dim }, () => next() - 0.5)
    // The whitening matrix is a function of the Gram matrix (finishStats), so equal Grams suffice.
    const stats = sideStats(codes, vectors, rows, bits, dim, true, false)
    const prev = Int8Array.from(codes)
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < codes.length; k++) if (next() < 0.05) codes[k] = -codes[k]!
      updateSideStats(stats, prev, codes, vectors, rows, bits, dim, true, false)
      const fresh = sideStats(codes, vectors, rows, bits, dim, true, false)
      assert.deepEqual(stats.gram, fresh.gram)
      assert.deepEqual(stats.sum, fresh.sum)
      assert.deepEqual(prev, codes)
      for (let k = 0; k < fresh.cross.length; k++) assert.ok(Math.abs(stats.cross[k]! - fresh.cross[k]!) < 1e-9)
    }
  }), { numRuns: 25 })
})

test('fitScale returns the weighted least-squares scale and offset of a b.d + c over all pairs, and its loss', () => {
  let unclamped = 0
  fc.assert(fc.property(fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom(32, 64, 128), (seed, bits) => {
    const next = createRng(seed)
    const users = 6; const items = 15; const w0 = 0.5; const conf = 2
    const uc = Int8Array.from({ length: users * bits }, () => (next() < 0.6 ? 1 : -1))
    const ic = Int8Array.from({ length: items * bits }, () => (next() < 0.4 ? 1 : -1))
    const ri: number[] = []; const ci: number[] = []; const vals: number[] = []
    for (let u = 0; u < users; u++) {
      for (let i = 0; i < items; i++) {
        // Observed pairs lean towards agreeing codes, so that the fitted scale is positive.
        let h = 0
        for (let k = 0; k < bits; k++) h += uc[u * bits + k]! * ic[i * bits + k]!
        if (next() < (h > 0 ? 0.6 : 0.1)) { ri.push(u); ci.push(i); vals.push(1 + Math.floor(next() * 3)) }
      }
    }
    const train = csrFromPairs(users, items, Int32Array.from(ri), Int32Array.from(ci), Float32Array.from(vals))
    const naive = (a: number, c: number): number => {
      let loss = 0
      for (let u = 0; u < users; u++) {
        for (let i = 0; i < items; i++) {
          let h = 0
          for (let k = 0; k < bits; k++) h += uc[u * bits + k]! * ic[i * bits + k]!
          let value = 0
          for (let p = train.indptr[u]!; p < train.indptr[u + 1]!; p++) if (train.indices[p] === i) value = train.values[p]!
          const w = value > 0 ? 1 + conf * value : w0
          loss += w * ((value > 0 ? 1 : 0) - a * h - c) ** 2
        }
      }
      return loss
    }
    const fit = fitScale(train, uc, ic, bits, sideStats(uc, new Float32Array(users), users, bits, 1, false, false), sideStats(ic, new Float32Array(items), items, bits, 1, false, false), w0, conf)
    const best = naive(fit.a, fit.c)
    assert.ok(Math.abs(fit.loss - best) <= 1e-6 * Math.max(1, best), `loss ${fit.loss} vs ${best}`)
    if (fit.a === 1 / (bits * 4)) return // clamped: the unconstrained optimum had a <= 0
    unclamped++
    for (const [da, dc] of [[1e-4, 0], [-1e-4, 0], [0, 1e-3], [0, -1e-3]] as const) assert.ok(naive(fit.a + da, fit.c + dc) >= best - 1e-9)
  }), { numRuns: 30 })
  assert.ok(unclamped >= 20, `only ${unclamped} of 30 fits had a positive scale`)
})

test('withTeacherPositives adds each user\'s k best unseen items under the real model, ties to the lower item', () => {
  // 1-dimensional vectors: item scores for user 0 are 3, 1, 3, 2, 5 and for user 1 their negatives.
  const train = csrFromPairs(2, 5, Int32Array.of(0, 1), Int32Array.of(4, 0), Float32Array.of(1, 1))
  const m = withTeacherPositives(train, Float32Array.of(1, -1), Float32Array.of(3, 1, 3, 2, 5), 1, 2, 0.5)
  const row = (u: number): [number, number][] => Array.from({ length: m.indptr[u + 1]! - m.indptr[u]! }, (_, k) => [m.indices[m.indptr[u]! + k]!, m.values[m.indptr[u]! + k]!])
  // User 0 has item 4 (score 5); the best unseen are items 0 and 2 (score 3, tie: lower first).
  assert.deepEqual(row(0), [[0, 0.5], [2, 0.5], [4, 1]])
  // User 1 has item 0; scores -1, -3, -2, -5 for items 1..4: items 1 and 3.
  assert.deepEqual(row(1), [[0, 1], [1, 0.5], [3, 0.5]])
})
