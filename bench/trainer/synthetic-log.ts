/**
 * `npm run bench:train-log -- --out FILE [--users 1000000] [--items 200000] [--interactions 10000000] [--seed 7]`
 * writes a synthetic interaction log (CSV: user,item,timestamp) for the trainer's scale benchmark
 * (BENCHMARKS.md, "Trainer at scale").
 *
 * Shape, chosen to look like a real implicit log rather than uniform noise (which no model can
 * learn and which gives every item the same popularity): items fall into TASTES groups; each user
 * has one taste and draws 70% of their interactions Zipf(1) from that group, 30% Zipf(1) from the
 * whole catalog; user activity is Zipf-like too (a few heavy users, most with a handful), and every
 * user has at least one interaction. A (user, item) pair may repeat, as in a real click log.
 */
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { createRng } from '../../src/trainer/rng.js'
import { zipfCdf, zipfRank } from '../lib/zipf.js'

const TASTES = 200
const OWN_TASTE_SHARE = 0.7

const ArgsSchema = z.object({
  out: z.string().min(1),
  users: z.coerce.number().int().min(1).max(50_000_000).default(1_000_000),
  items: z.coerce.number().int().min(TASTES).max(50_000_000).default(200_000),
  interactions: z.coerce.number().int().min(1).max(1_000_000_000).default(10_000_000),
  seed: z.coerce.number().int().min(0).max(0xffffffff).default(7),
}).strict()

/** How many interactions each user gets: Zipf-like weights scaled to the total, at least one each. */
export function userActivity (users: number, interactions: number, next: () => number): Uint32Array {
  if (interactions < users) throw new Error(`--interactions (${interactions}) must be at least --users (${users}): every user gets one`)
  const counts = new Uint32Array(users)
  // Weights 1/(r + 1)^0.7 over a random rank per user: a heavy tail without one user holding most.
  const weights = new Float64Array(users)
  let sum = 0
  for (let u = 0; u < users; u++) { weights[u] = 1 / Math.pow(1 + Math.floor(next() * users), 0.7); sum += weights[u] }
  let given = 0
  const extra = interactions - users
  for (let u = 0; u < users; u++) { counts[u] = 1 + Math.floor(extra * weights[u] / sum); given += counts[u] }
  // Rounding down leaves a remainder: hand it out one by one.
  for (let u = 0; given < interactions; u = (u + 1) % users) { counts[u]++; given++ }
  return counts
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, users: { type: 'string' }, items: { type: 'string' }, interactions: { type: 'string' }, seed: { type: 'string' } }, strict: true })
  const parsed = ArgsSchema.safeParse(values)
  if (!parsed.success) {
    process.stderr.write(`synthetic-log: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n`)
    process.exit(2)
  }
  const a = parsed.data
  const rng = createRng(a.seed)
  const counts = userActivity(a.users, a.interactions, rng.next)
  const perTaste = Math.floor(a.items / TASTES)
  const tasteCdf = zipfCdf(perTaste)
  const globalCdf = zipfCdf(a.items)
  // Item ids are shuffled against popularity rank so the id order carries no signal.
  const itemOfRank = Int32Array.from({ length: a.items }, (_, i) => i)
  for (let i = a.items - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); const t = itemOfRank[i]; itemOfRank[i] = itemOfRank[j]; itemOfRank[j] = t }

  await mkdir(dirname(a.out), { recursive: true })
  const out = createWriteStream(a.out)
  const write = (chunk: string): Promise<void> => new Promise((resolve) => { if (out.write(chunk)) resolve(); else out.once('drain', resolve) })
  await write('user,item,timestamp\n')
  let time = 1_600_000_000
  let chunk = ''
  for (let u = 0; u < a.users; u++) {
    const taste = Math.floor(rng.next() * TASTES)
    for (let k = 0; k < counts[u]; k++) {
      const rank = rng.next() < OWN_TASTE_SHARE ? taste * perTaste + zipfRank(tasteCdf, rng.next()) : zipfRank(globalCdf, rng.next())
      chunk += `u${u},i${itemOfRank[rank]},${time++}\n`
    }
    if (chunk.length > 1 << 20) { await write(chunk); chunk = '' }
  }
  await write(chunk)
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => err ? reject(err) : resolve()))
  process.stderr.write(`wrote ${a.interactions} interactions (${a.users} users, ${a.items} items) to ${a.out}\n`)
}

await main()
