/**
 * What `npm start` calls when `models/default` is missing: train the shipped MovieLens sample
 * (data/ml-latest-small) into a bundle. About 35 s of CPU on ml-latest-small with the full report.
 */
import { join } from 'node:path'
import { DEFAULT_TRAINER_OPTIONS, runTrainer, type TrainerResult } from './pipeline.js'

export interface DefaultModelOptions {
  /** Folder holding ratings.csv and movies.csv (default data/ml-latest-small). */
  readonly dataDir?: string
  /** Bundle directory to write (default models/default). */
  readonly outDir?: string
  readonly log?: (msg: string) => void
  readonly threads?: number
  /** Skip the reference variants: only the served model and its codes are trained and evaluated. */
  readonly fast?: boolean
}

export async function trainDefaultModel (opts: DefaultModelOptions = {}): Promise<TrainerResult> {
  const dataDir = opts.dataDir ?? 'data/ml-latest-small'
  return await runTrainer({
    ...DEFAULT_TRAINER_OPTIONS,
    input: join(dataDir, 'ratings.csv'),
    items: join(dataDir, 'movies.csv'),
    out: opts.outDir ?? join('models', 'default'),
    threads: opts.threads ?? DEFAULT_TRAINER_OPTIONS.threads,
    scope: opts.fast ?? false ? 'served' : 'mapping',
    ...(opts.log ? { log: opts.log } : {}),
  })
}
