/**
 * `npm run bundle -- --item-factors F --user-factors F --items ids.csv --users ids.csv --out DIR [options]`.
 * Exit status: 0 bundle written, 2 unusable input (message on stderr), 1 anything else.
 */
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { CODE_BITS } from '../bundle-format/manifest.js'
import { TrainerInputError } from '../trainer/read-interactions.js'
import { BundleInputError } from './errors.js'
import { bundleFromFactors, type FactorsBundleOptions } from './factors-bundle.js'
import { NpyError } from './npy.js'

export const USAGE = `Usage: npm run bundle -- --item-factors <items.npy> --user-factors <users.npy> \\
         --items <item-ids.csv> --users <user-ids.csv> --out <dir> [options]

Factors: .npy matrices (np.save), float32 or float64, rows x dimension, C order; one id per line in
the id files, in the factors' row order (a header line "id", "item", "user", ... is skipped).

Options
  --interactions <log.csv>   the training log (user, item[, rating, timestamp]): seen items,
                             popularity, and the data the codes are learned from
  --test <log.csv>           held-out interactions: ships eval.json / eval.md / eval.svg (needs --interactions)
  --item-metadata <file>     item titles and tags (id, title, genres), as the trainer's --items
  --bits <32|64|128>         binary code length (default 64)
  --codes <learned|sign>     learned: the trainer's discrete optimization (default);
                             sign: signs of the first --bits factor coordinates
  --alpha <x>, --reg <x>     confidence weight and L2 regularization the factors were trained with,
                             for the service's fold-in of new events (default: the service's 10, 0.1)
  --seed <n>                 default 42
  --threads <n>              worker threads for the codes (default 2)
  --model-id <id>            default external
  --k <n>                    evaluation cut-off (default 10)
  --eval-users <n>           evaluate on a seeded sample of at most n users (default 20000)
`

const positive = z.coerce.number().refine(Number.isFinite, 'a number')
const ArgsSchema = z.object({
  'item-factors': z.string().min(1),
  'user-factors': z.string().min(1),
  items: z.string().min(1),
  users: z.string().min(1),
  out: z.string().min(1),
  interactions: z.string().min(1).optional(),
  test: z.string().min(1).optional(),
  'item-metadata': z.string().min(1).optional(),
  bits: z.coerce.number().pipe(z.union(CODE_BITS.map((b) => z.literal(b)) as [z.ZodLiteral<32>, z.ZodLiteral<64>, z.ZodLiteral<128>])).default(64),
  codes: z.enum(['learned', 'sign']).default('learned'),
  alpha: positive.pipe(z.number().min(0).max(1e6)).optional(),
  reg: positive.pipe(z.number().gt(0).max(1e6)).optional(),
  seed: z.coerce.number().int().min(0).max(0xffffffff).default(42),
  threads: z.coerce.number().int().min(1).max(64).default(2),
  'model-id': z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, dot, dash, underscore').default('external'),
  k: z.coerce.number().int().min(1).max(1000).default(10),
  'eval-users': z.coerce.number().int().min(1).default(20_000),
}).strict()
  .refine((a) => a.test === undefined || a.interactions !== undefined, { message: '--test needs --interactions', path: ['test'] })
  .refine((a) => (a.alpha === undefined) === (a.reg === undefined), { message: 'give both --alpha and --reg, or neither', path: ['alpha'] })

const STRING_FLAGS = ['item-factors', 'user-factors', 'items', 'users', 'out', 'interactions', 'test', 'item-metadata', 'bits', 'codes', 'alpha', 'reg', 'seed', 'threads', 'model-id', 'k', 'eval-users'] as const

/** Parses argv into bundler options; throws BundleInputError with the usage on bad flags. */
export function parseBundleArgs (argv: readonly string[], log?: (msg: string) => void): FactorsBundleOptions {
  let values: Record<string, unknown>
  try {
    values = parseArgs({ args: [...argv], options: Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' as const }])), strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new BundleInputError(`${(err as Error).message}\n\n${USAGE}`)
  }
  const parsed = ArgsSchema.safeParse(values)
  if (!parsed.success) throw new BundleInputError(`${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n\n${USAGE}`)
  const a = parsed.data
  return {
    itemFactors: a['item-factors'],
    userFactors: a['user-factors'],
    items: a.items,
    users: a.users,
    out: a.out,
    ...(a.interactions ? { interactions: a.interactions } : {}),
    ...(a.test ? { test: a.test } : {}),
    ...(a['item-metadata'] ? { itemMetadata: a['item-metadata'] } : {}),
    bits: a.bits,
    codes: a.codes,
    ...(a.alpha !== undefined && a.reg !== undefined ? { foldIn: { alpha: a.alpha, reg: a.reg } } : {}),
    seed: a.seed,
    threads: a.threads,
    modelId: a['model-id'],
    k: a.k,
    evalUsers: a['eval-users'],
    ...(log ? { log } : {}),
  }
}

export async function main (argv: readonly string[]): Promise<number> {
  const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }
  try {
    const { timings } = await bundleFromFactors(parseBundleArgs(argv, log))
    process.stdout.write(`timings (ms): ${JSON.stringify(timings)}\n`)
    return 0
  } catch (err) {
    if (err instanceof BundleInputError || err instanceof NpyError || err instanceof TrainerInputError) { log(`bundle: ${err.message}`); return 2 }
    log(`bundle: ${(err as Error).stack ?? String(err)}`)
    return 1
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => { console.error(err); process.exitCode = 1 })
}
