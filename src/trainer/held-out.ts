/**
 * What the trainer evaluates on: the per-user time split of the log (split.ts), or a given test file
 * (`--test`, same columns as the input) for public benchmarks that come with their split, where the
 * whole input is training data. Test rows whose user or item training never saw cannot be ranked:
 * they are counted and reported, never an error.
 */
import { csrFromPairs, type Csr } from './csr.js'
import { readInteractions, TrainerInputError, type Interactions, type ReadOptions } from './read-interactions.js'
import { fullMatrix, sampleTestUsers, splitByTime, withoutTrainItems } from './split.js'

export interface HeldOut {
  readonly source: 'time-split' | 'test-file'
  readonly train: Csr
  /** The evaluated users' test items (a seeded sample of at most evalUsers users). */
  readonly test: Csr
  readonly description: string
  /** Test rows that could not be evaluated (only with a test file). */
  readonly skipped?: { readonly unknownUser: number, readonly unknownItem: number, readonly alreadyInTrain: number }
}

export async function heldOutData (data: Interactions, o: { testFile?: string, read?: ReadOptions, evalUsers: number, seed: number }): Promise<HeldOut> {
  if (o.testFile === undefined) {
    const split = splitByTime(data)
    return { source: 'time-split', train: split.train, test: sampleTestUsers(split.test, o.evalUsers, o.seed), description: 'per user, latest 20% of interactions (by timestamp, file order on ties) are test' }
  }
  let raw: Interactions
  try {
    raw = await readInteractions(o.testFile, o.read)
  } catch (err) {
    if (err instanceof TrainerInputError) throw new TrainerInputError(`--test ${o.testFile}: ${err.message}`)
    const code = (err as NodeJS.ErrnoException).code
    if (typeof code === 'string') throw new TrainerInputError(`--test ${o.testFile}: cannot read (${code})`)
    throw err
  }
  const userOf = new Map(data.userIds.map((id, u) => [id, u]))
  const itemOf = new Map(data.itemIds.map((id, i) => [id, i]))
  const us = new Int32Array(raw.count)
  const is = new Int32Array(raw.count)
  let n = 0
  let unknownUser = 0
  let unknownItem = 0
  for (let k = 0; k < raw.count; k++) {
    const u = userOf.get(raw.userIds[raw.users[k]])
    const i = itemOf.get(raw.itemIds[raw.items[k]])
    if (u === undefined) { unknownUser++; continue }
    if (i === undefined) { unknownItem++; continue }
    us[n] = u
    is[n++] = i
  }
  const train = fullMatrix(data)
  const all = csrFromPairs(data.userIds.length, data.itemIds.length, us, is, undefined, n)
  const test = withoutTrainItems(all, train)
  const alreadyInTrain = all.indices.length - test.indices.length
  return {
    source: 'test-file',
    train,
    test: sampleTestUsers(test, o.evalUsers, o.seed),
    description: `the given test file ${o.testFile}; every input interaction is training data`,
    skipped: { unknownUser, unknownItem, alreadyInTrain },
  }
}
