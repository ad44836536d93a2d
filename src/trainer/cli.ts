/**
 * `npm run train -- --input <file> --out <dir> [options]`. Exit status: 0 trained and exported,
 * 2 unusable input (message on stderr), 1 anything else.
 */
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { CODE_BITS } from '../bundle-format/manifest.js'
import { DR_LIMITS } from '../bundle-format/deep-retrieval.js'
import type { DeepRetrievalOverrides } from './deep-retrieval/pipeline-step.js'
import { DEFAULT_TRAINER_OPTIONS, runTrainer, type TrainerOptions } from './pipeline.js'
import { AUTO_BUDGET_TOLERANCE, FRONTIER_BUDGETS } from './budget.js'
import { MAPPING_KINDS } from './variant-config.js'
import { DEFAULT_MAX_BAD_ROWS_SHARE, TrainerInputError } from './read-interactions.js'

export const USAGE = `Usage: npm run train -- --input <ratings.csv|.tsv> --out <dir> [options]

Input
  --items <file>             item metadata (id, title, genres/tags) for display
  --delimiter <auto|,|tab>   default auto
  --header <auto|yes|no>     default auto
  --user-col, --item-col, --rating-col, --timestamp-col <name|index>
  --min-rating <x>           keep only interactions rated >= x (default: every row is a positive)
  --max-bad-rows-share <x>   fail when more than this share of rows is malformed (default ${DEFAULT_MAX_BAD_ROWS_SHARE})
Model
  --dim <n>                  embedding dimension (default ${DEFAULT_TRAINER_OPTIONS.dimension})
  --bits <32|64|128>         binary code length (default ${DEFAULT_TRAINER_OPTIONS.bits})
  --epochs <n>               iALS epochs (default ${DEFAULT_TRAINER_OPTIONS.epochs})
  --alpha <x>                confidence of an observed interaction, 1 + alpha (default ${DEFAULT_TRAINER_OPTIONS.alpha})
  --reg <x>                  L2 regularisation, times (1 + observations of the row) (default ${DEFAULT_TRAINER_OPTIONS.reg})
  --budget <auto|share>      bytes of everything producing vectors (tables, mapping arrays) as a share of float32
                             tables with a row per user and item; auto (default) picks the smallest frontier
                             budget whose held-out Recall@20 is within ${AUTO_BUDGET_TOLERANCE * 100}% of the full model's
  --max-bytes <n>            serve at most this many such bytes instead of a share
  --mapping <hash|l2c|baco>  how item ids share rows (default ${DEFAULT_TRAINER_OPTIONS.mapping}): frequency + double hashing,
                             Learning to Collide (frequent ids own rows, the rest clustered), BACO co-clustering
  --users <solved|stored>    solved (default): no user vectors stored, the service solves each from the user's
                             items (the iALS user step); stored: user rows in the bundle
  --dedicated-share <x>      share of a smaller item table's rows owned by the most frequent items
                             (default: the mapping's, 0.5)
  --dtype <i8|f16|f32>       stored precision of the tables (i8: a float32 scale per row) (default ${DEFAULT_TRAINER_OPTIONS.dtype.toLowerCase()})
Deep Retrieval (a learned structure searched by beam search; defaults chosen by catalog size)
  --no-deep-retrieval        do not build it (the bundle then serves hamming, mips and hybrid only)
  --dr-width <K>             nodes per layer (default: about the cube root of the catalog)
  --dr-depth <D>             layers (default 3)
  --dr-paths <J>             paths per item (default 3)
  --dr-hidden <n>            hidden units of each layer's map; 0 is a linear layer (default 0)
  --dr-embedding <e>         node embedding width (default 16)
  --dr-rounds <n>            EM rounds after the first E-step (default 3)
  --dr-epochs <n>            passes over the training pairs per E-step (default 2)
  --dr-penalty <alpha>       path-size penalty alpha * |c|^4 / 4 (default: from the mean path size)
  --dr-beam <B>              served beam (default: the smallest evaluated beam within 2% of exhaustive Recall@20)
Run
  --seed <n>                 default ${DEFAULT_TRAINER_OPTIONS.seed}; with --threads 1 the tensors are identical across runs
  --threads <n>              worker threads (default ${DEFAULT_TRAINER_OPTIONS.threads})
  --test <file>              evaluate on this held-out file (same columns as the input) instead of the per-user
                             time split; every input row is then training data
  --frontier                 train and report every mapping at every budget (${FRONTIER_BUDGETS.map((b) => `${b * 100}%`).join(', ')})
  --report                   the full model, and the served mapping's budgets as far as auto needs (the default)
  --fast                     only what the served budget needs (no full model with a fixed budget)
  --no-refit                 export the evaluated model; by default the chosen configuration is retrained on
                             every interaction (the held-out part included) before export
  --eval-users <n>           evaluate on a seeded sample of at most n users with test items (default ${DEFAULT_TRAINER_OPTIONS.evalUsers})
  --model-id <id>            default ${DEFAULT_TRAINER_OPTIONS.modelId}
`

const num = z.coerce.number().refine(Number.isFinite, 'a number')
const ArgsSchema = z.object({
  input: z.string().min(1),
  out: z.string().min(1),
  items: z.string().optional(),
  delimiter: z.enum(['auto', ',', 'tab', '\t']).default('auto'),
  header: z.enum(['auto', 'yes', 'no']).default('auto'),
  'user-col': z.string().optional(),
  'item-col': z.string().optional(),
  'rating-col': z.string().optional(),
  'timestamp-col': z.string().optional(),
  'min-rating': num.optional(),
  'max-bad-rows-share': num.pipe(z.number().min(0).max(1)).default(DEFAULT_MAX_BAD_ROWS_SHARE),
  dim: z.coerce.number().int().min(2).max(1024).default(DEFAULT_TRAINER_OPTIONS.dimension),
  bits: z.coerce.number().pipe(z.union(CODE_BITS.map((b) => z.literal(b)) as [z.ZodLiteral<32>, z.ZodLiteral<64>, z.ZodLiteral<128>])).default(DEFAULT_TRAINER_OPTIONS.bits),
  epochs: z.coerce.number().int().min(1).max(1000).default(DEFAULT_TRAINER_OPTIONS.epochs),
  alpha: num.pipe(z.number().min(0)).default(DEFAULT_TRAINER_OPTIONS.alpha),
  reg: num.pipe(z.number().min(0)).default(DEFAULT_TRAINER_OPTIONS.reg),
  budget: z.union([z.literal('auto'), num.pipe(z.number().gt(0, 'auto or a share in (0, 1]').max(1, 'auto or a share in (0, 1]'))]).default('auto'),
  'max-bytes': z.coerce.number().int().min(1).optional(),
  mapping: z.enum(MAPPING_KINDS).default(DEFAULT_TRAINER_OPTIONS.mapping),
  users: z.enum(['solved', 'stored']).default(DEFAULT_TRAINER_OPTIONS.userVectors),
  dtype: z.enum(['i8', 'f16', 'f32']).default(DEFAULT_TRAINER_OPTIONS.dtype.toLowerCase() as 'i8'),
  'dedicated-share': num.pipe(z.number().min(0).max(1)).optional(),
  test: z.string().min(1).optional(),
  frontier: z.boolean().default(false),
  seed: z.coerce.number().int().min(0).max(0xffffffff).default(DEFAULT_TRAINER_OPTIONS.seed),
  threads: z.coerce.number().int().min(1).max(64).default(DEFAULT_TRAINER_OPTIONS.threads),
  fast: z.boolean().default(false),
  report: z.boolean().default(true),
  'no-refit': z.boolean().default(false),
  'model-id': z.string().default(DEFAULT_TRAINER_OPTIONS.modelId),
  'eval-users': z.coerce.number().int().min(1).default(DEFAULT_TRAINER_OPTIONS.evalUsers),
  'no-deep-retrieval': z.boolean().default(false),
  'dr-width': z.coerce.number().int().min(2).max(DR_LIMITS.maxWidth).optional(),
  'dr-depth': z.coerce.number().int().min(1).max(DR_LIMITS.maxDepth).optional(),
  'dr-paths': z.coerce.number().int().min(1).max(DR_LIMITS.maxPathsPerItem).optional(),
  'dr-hidden': z.coerce.number().int().min(0).max(DR_LIMITS.maxHidden).optional(),
  'dr-embedding': z.coerce.number().int().min(1).max(DR_LIMITS.maxEmbeddingDimension).optional(),
  'dr-rounds': z.coerce.number().int().min(0).max(100).optional(),
  'dr-epochs': z.coerce.number().int().min(1).max(100).optional(),
  'dr-penalty': num.pipe(z.number().min(0)).optional(),
  'dr-beam': z.coerce.number().int().min(1).max(DR_LIMITS.maxBeam).optional(),
}).strict()

const col = (v: string | undefined): string | number | undefined => v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v

function deepRetrievalOverrides (a: z.infer<typeof ArgsSchema>): DeepRetrievalOverrides {
  const pick = <K extends keyof DeepRetrievalOverrides>(key: K, v: DeepRetrievalOverrides[K] | undefined): Partial<DeepRetrievalOverrides> => v === undefined ? {} : { [key]: v }
  return {
    ...pick('width', a['dr-width']), ...pick('depth', a['dr-depth']), ...pick('pathsPerItem', a['dr-paths']), ...pick('hidden', a['dr-hidden']),
    ...pick('embeddingDimension', a['dr-embedding']), ...pick('rounds', a['dr-rounds']), ...pick('epochs', a['dr-epochs']), ...pick('penalty', a['dr-penalty']), ...pick('beam', a['dr-beam']),
  }
}

/** Parses argv into trainer options; throws TrainerInputError with the usage on bad flags. */
export function parseTrainerArgs (argv: readonly string[], log?: (msg: string) => void): TrainerOptions {
  let values: Record<string, unknown>
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        input: { type: 'string' }, out: { type: 'string' }, items: { type: 'string' },
        delimiter: { type: 'string' }, header: { type: 'string' },
        'user-col': { type: 'string' }, 'item-col': { type: 'string' }, 'rating-col': { type: 'string' }, 'timestamp-col': { type: 'string' },
        'min-rating': { type: 'string' }, 'max-bad-rows-share': { type: 'string' },
        dim: { type: 'string' }, bits: { type: 'string' }, epochs: { type: 'string' }, alpha: { type: 'string' }, reg: { type: 'string' }, budget: { type: 'string' },
        'max-bytes': { type: 'string' }, mapping: { type: 'string' }, users: { type: 'string' }, dtype: { type: 'string' }, 'dedicated-share': { type: 'string' }, test: { type: 'string' }, frontier: { type: 'boolean' },
        seed: { type: 'string' }, threads: { type: 'string' }, fast: { type: 'boolean' }, report: { type: 'boolean' }, 'no-refit': { type: 'boolean' }, 'model-id': { type: 'string' }, 'eval-users': { type: 'string' },
        'no-deep-retrieval': { type: 'boolean' }, 'dr-width': { type: 'string' }, 'dr-depth': { type: 'string' }, 'dr-paths': { type: 'string' }, 'dr-hidden': { type: 'string' },
        'dr-embedding': { type: 'string' }, 'dr-rounds': { type: 'string' }, 'dr-epochs': { type: 'string' }, 'dr-penalty': { type: 'string' }, 'dr-beam': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (err) {
    throw new TrainerInputError(`${(err as Error).message}\n\n${USAGE}`)
  }
  const parsed = ArgsSchema.safeParse(values)
  if (!parsed.success) throw new TrainerInputError(`${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n\n${USAGE}`)
  const a = parsed.data
  if (a['max-bytes'] !== undefined && values.budget !== undefined) throw new TrainerInputError(`give --budget or --max-bytes, not both\n\n${USAGE}`)
  if ([a.fast, a.frontier, values.report === true].filter(Boolean).length > 1) throw new TrainerInputError(`--fast, --report and --frontier are exclusive\n\n${USAGE}`)
  return {
    ...DEFAULT_TRAINER_OPTIONS,
    input: a.input,
    out: a.out,
    ...(a.items ? { items: a.items } : {}),
    read: {
      delimiter: a.delimiter === 'tab' ? '\t' : a.delimiter,
      header: a.header,
      userColumn: col(a['user-col']),
      itemColumn: col(a['item-col']),
      ratingColumn: col(a['rating-col']),
      timestampColumn: col(a['timestamp-col']),
      maxBadRowsShare: a['max-bad-rows-share'],
      ...(a['min-rating'] === undefined ? {} : { minRating: a['min-rating'] }),
    },
    dimension: a.dim,
    bits: a.bits,
    epochs: a.epochs,
    alpha: a.alpha,
    reg: a.reg,
    budget: a['max-bytes'] !== undefined ? { maxBytes: a['max-bytes'] } : a.budget,
    mapping: a.mapping,
    userVectors: a.users,
    dtype: a.dtype.toUpperCase() as 'I8' | 'F16' | 'F32',
    ...(a['dedicated-share'] === undefined ? {} : { dedicatedShare: a['dedicated-share'] }),
    ...(a.test ? { test: a.test } : {}),
    seed: a.seed,
    threads: a.threads,
    scope: a.frontier ? 'all' : a.fast ? 'served' : 'mapping',
    refit: !a['no-refit'],
    modelId: a['model-id'],
    evalUsers: a['eval-users'],
    deepRetrieval: a['no-deep-retrieval'] ? false : deepRetrievalOverrides(a),
    ...(log ? { log } : {}),
  }
}

export async function main (argv: readonly string[]): Promise<number> {
  const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }
  try {
    const opts = parseTrainerArgs(argv, log)
    const { report, timings } = await runTrainer(opts)
    const md = (await import('./report.js')).reportMarkdown(report)
    process.stdout.write(md)
    process.stdout.write(`\ntimings (ms): ${JSON.stringify(timings)}\n`)
    return 0
  } catch (err) {
    if (err instanceof TrainerInputError) { log(`train: ${err.message}`); return 2 }
    log(`train: ${(err as Error).stack ?? String(err)}`)
    return 1
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => { console.error(err); process.exitCode = 1 })
}
