/**
 * One entry point for the pipeline: the layout of one table (user or item) in `input.rows` rows,
 * by frequency + double hashing ('hash', today's split), Learning to Collide ('l2c') or balanced
 * co-clustering ('baco'). Learned layouts keep the hash seeds so unseen ids still hash into the
 * shared rows.
 */
import { createTableLayout, frequencyOrder, splitRows, tableSeeds, type TableLayout } from '../table-layout.js'
import { assignmentLayout } from './assignment.js'
import { bacoAssignment } from './baco.js'
import { rowCounts, type MappingInput, type MappingKind, type MappingSide } from './input.js'
import { l2cAssignment } from './l2c.js'

export type { MappingInput, MappingKind, MappingSide } from './input.js'

/** planBudget's split of one table: users all get a row when they fit, otherwise (and for items) `dedicatedShare` dedicated. */
export function hashLayout (side: MappingSide, input: MappingInput): TableLayout {
  const n = input.ids.length
  const [k, b] = side === 'user' && n <= input.rows ? [n, 0] : splitRows(n, input.rows, input.dedicatedShare ?? 0.5)
  return createTableLayout(input.ids, frequencyOrder(rowCounts(input.matrix)).slice(0, k), b, tableSeeds(input.seed, side))
}

export async function buildMapping (kind: MappingKind, side: MappingSide, input: MappingInput): Promise<TableLayout> {
  if (input.matrix.rows !== input.ids.length || input.transpose.cols !== input.ids.length) throw new RangeError('matrix and transpose must have one row (column) per id')
  if (!(input.rows >= 1)) throw new RangeError(`rows must be >= 1, got ${input.rows}`)
  if (kind === 'hash') return hashLayout(side, input)
  // Every id fits in its own row: nothing to learn, the unhashed table.
  if (input.ids.length <= input.rows) return createTableLayout(input.ids, frequencyOrder(rowCounts(input.matrix)), 0, tableSeeds(input.seed, side))
  const assignment = kind === 'l2c' ? await l2cAssignment(input) : bacoAssignment(input)
  return assignmentLayout(assignment, tableSeeds(input.seed, side), {
    kind: kind === 'l2c' ? 'learned-hash' : 'co-cluster',
    tensor: side === 'user' ? 'user_rows' : 'item_rows',
  })
}
