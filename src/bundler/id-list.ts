/**
 * The ids of a factor matrix's rows, in row order: a text file with one id per line (the first
 * field of a CSV line, so an `id,title` export works too), and an optional header line whose
 * first field names the column (id, user, item, user_id, ...). Every id must be a valid bundle id
 * (1 to MAX_ID_BYTES UTF-8 bytes, no control characters) and appear once.
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { ID_PATTERN, MAX_ID_BYTES } from '../bundle-format/manifest.js'
import { splitFields } from '../trainer/read-interactions.js'
import { BundleInputError } from './errors.js'

const HEADER = /^(id|ids|user|users|userid|user_id|item|items|itemid|item_id|movie|movieid|movie_id|product|product_id)$/i

export async function readIdList (path: string): Promise<string[]> {
  const ids: string[] = []
  const lineOf = new Map<string, number>()
  let lineNo = 0
  let delimiter: string | null = null
  try {
    const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity })
    for await (const line of rl) {
      lineNo++
      if (line.trim().length === 0) continue
      delimiter ??= line.includes('\t') ? '\t' : ','
      const id = (splitFields(line, delimiter)[0] ?? '').trim()
      if (ids.length === 0 && lineOf.size === 0 && HEADER.test(id)) { lineOf.set('', lineNo); continue }
      if (id.length === 0) throw new BundleInputError(`${path}: line ${lineNo}: empty id`)
      if (Buffer.byteLength(id) > MAX_ID_BYTES || !ID_PATTERN.test(id)) throw new BundleInputError(`${path}: line ${lineNo}: not a valid id (1 to ${MAX_ID_BYTES} UTF-8 bytes, no control characters)`)
      const first = lineOf.get(id)
      if (first !== undefined) throw new BundleInputError(`${path}: id ${JSON.stringify(id)} appears on lines ${first} and ${lineNo}`)
      lineOf.set(id, lineNo)
      ids.push(id)
    }
  } catch (err) {
    if (err instanceof BundleInputError) throw err
    throw new BundleInputError(`${path}: ${(err as Error).message}`)
  }
  if (ids.length === 0) throw new BundleInputError(`${path}: no ids`)
  return ids
}
