/**
 * Writes the ids the k6 scenarios draw from (loadtest/k6/README.md), taken from a bundle after the
 * loader has validated it: users in bundle order (most active first for our trainer), items.
 *
 *   npm run loadtest:ids -- models/default > loadtest/k6/ids.json
 */
import { parseArgs } from 'node:util'
import { loadModel } from '../src/model-loader/load-bundle.js'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { max: { type: 'string', default: '100000' } } })
const dir = positionals[0] ?? 'models/default'
const max = Number(values.max)
if (!Number.isInteger(max) || max < 1) {
  console.error('--max must be a positive integer')
  process.exit(2)
}
try {
  const model = await loadModel(dir, { hnsw: false })
  const ids = (index: typeof model.items): string[] => Array.from({ length: Math.min(max, index.size) }, (_, row) => index.idAt(row))
  process.stdout.write(JSON.stringify({ users: ids(model.users), items: ids(model.items) }) + '\n')
} catch (err) {
  console.error(`cannot read ids from ${dir}: ${(err as Error).message}`)
  process.exit(1)
}
