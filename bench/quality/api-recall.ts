/**
 * Recall@20 / NDCG@20 of a bundle as the service answers: the app built around the loaded bundle,
 * each evaluated user's top 20 asked over REST (fastify inject: the whole HTTP layer without a
 * socket), scored against their held-out items with the trainer's metric code.
 */
import { pathToFileURL } from 'node:url'
import { buildApp } from '../../src/app.js'
import { createConfig } from '../../src/config.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { csrFromPairs } from '../../src/trainer/csr.js'
import { evaluateRanked } from '../../src/trainer/evaluate.js'
import { heldOutData } from '../../src/trainer/held-out.js'
import { readInteractions } from '../../src/trainer/read-interactions.js'

export async function apiRecall (bundle: string, input: string, testFile: string | null, evalUsers: number, seed: number): Promise<{ recall: number, ndcg: number, users: number, ms: number, method: string }> {
  const data = await readInteractions(input)
  const held = await heldOutData(data, { ...(testFile ? { testFile } : {}), evalUsers, seed })
  const model = await loadModel(bundle)
  const app = await buildApp({ config: createConfig({}), model })
  const itemOf = new Map(data.itemIds.map((id, i) => [id, i]))
  const t0 = performance.now()
  let method = ''
  const lists: Int32Array[] = []
  for (let u = 0; u < held.test.rows; u++) {
    if (held.test.indptr[u + 1] === held.test.indptr[u]) { lists.push(new Int32Array(0)); continue }
    const res = await app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(data.userIds[u])}/recommendations?k=20` })
    if (res.statusCode !== 200) throw new Error(`user ${data.userIds[u]}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`)
    const body = res.json() as { items: { id: string }[], method?: string }
    method ||= body.method ?? ''
    lists.push(Int32Array.from(body.items, (it) => itemOf.get(it.id) ?? -1))
  }
  const ms = performance.now() - t0
  await app.close()
  // When the served model was refit on every interaction, the time split's train part is what the
  // answers exclude (the service leaves out everything the bundle says the user saw).
  const train = held.source === 'time-split' ? held.train : csrFromPairs(held.train.rows, held.train.cols, new Int32Array(0), new Int32Array(0))
  const m = evaluateRanked(train, held.test, 20, (u, out) => { out.set(lists[u].subarray(0, 20)); return Math.min(20, lists[u].length) })
  return { recall: m.recallFull, ndcg: m.ndcg, users: m.users, ms, method }
}

// `node --import tsx bench/quality/api-recall.ts <bundle> <train file> [<test file>]`: the check alone, on any bundle.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [bundle, input, testFile] = process.argv.slice(2)
  const r = await apiRecall(bundle, input, testFile ?? null, 1_000_000, 42)
  process.stdout.write(`through the REST API (default method: ${r.method}), ${r.users} users: Recall@20 ${r.recall.toFixed(4)} NDCG@20 ${r.ndcg.toFixed(4)}; ${r.ms.toFixed(0)} ms\n`)
}
