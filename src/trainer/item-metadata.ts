/**
 * Item display metadata from a CSV/TSV with a header: an id column (first column, or one named
 * like item/movie id), an optional title, and optional tags ('|'-separated, as MovieLens genres).
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { ItemMeta } from '../model-loader/model.js'
import { splitFields, TrainerInputError } from './read-interactions.js'

const ID = /^(item|itemid|item_id|id|movie|movieid|movie_id|product|productid|product_id)$/i
const TITLE = /^(title|name)$/i
const TAGS = /^(genres|genre|tags|categories|category)$/i
/** MovieLens writes this instead of an empty genre list. */
const NO_TAGS = '(no genres listed)'

export async function readItemMetadata (path: string): Promise<Map<string, ItemMeta>> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity })
  const out = new Map<string, ItemMeta>()
  let cols: { id: number, title: number, tags: number } | null = null
  let delimiter = ','
  for await (const line of rl) {
    if (line.trim().length === 0) continue
    if (cols === null) {
      delimiter = line.includes('\t') ? '\t' : ','
      const header = splitFields(line, delimiter).map((h) => h.trim())
      const id = header.findIndex((h) => ID.test(h))
      cols = { id: id < 0 ? 0 : id, title: header.findIndex((h) => TITLE.test(h)), tags: header.findIndex((h) => TAGS.test(h)) }
      if (cols.title < 0 && cols.tags < 0) throw new TrainerInputError(`${path}: header [${header.join(', ')}] has neither a title nor a tags column`)
      continue
    }
    const f = splitFields(line, delimiter)
    const id = f[cols.id]?.trim()
    if (!id) continue
    const meta: { title?: string, tags?: string[] } = {}
    const title = cols.title >= 0 ? f[cols.title]?.trim() : undefined
    if (title) meta.title = title
    const tags = cols.tags >= 0 ? f[cols.tags]?.trim() : undefined
    if (tags && tags !== NO_TAGS) meta.tags = tags.split('|').map((t) => t.trim()).filter((t) => t.length > 0)
    out.set(id, meta)
  }
  return out
}
