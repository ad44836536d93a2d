/**
 * Normalizes two OpenAPI documents to what the agreement test compares: every local $ref inlined,
 * prose (description, summary, tags, examples) dropped, zod's +-2^53 integer bounds dropped (they
 * say "integer" and nothing more), parameters and `required` lists sorted.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

const PROSE = new Set(['description', 'summary', 'tags', 'example', 'examples', 'externalDocs', 'title'])
const SAFE = Number.MAX_SAFE_INTEGER

function resolvePointer (doc: Json, ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`only local refs are supported, got ${ref}`)
  let node: Json = doc
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~')
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !(key in node)) throw new Error(`dangling $ref ${ref}`)
    node = node[key]
  }
  return node
}

/** `parentKey` tells property maps apart from keywords: a property named "title" is kept. */
function normalize (doc: Json, node: Json, parentKey: string, depth: number): Json {
  if (depth > 64) throw new Error('$ref cycle or document too deep')
  if (Array.isArray(node)) {
    const items = node.map((v) => normalize(doc, v, '', depth + 1))
    if (parentKey === 'required' && items.every((v) => typeof v === 'string')) return [...items].sort()
    if (parentKey === 'parameters') return [...items].sort((a, b) => paramKey(a).localeCompare(paramKey(b)))
    return items
  }
  if (node === null || typeof node !== 'object') return node
  if (typeof node.$ref === 'string') {
    const { $ref, ...siblings } = node
    const target = normalize(doc, resolvePointer(doc, $ref), parentKey, depth + 1)
    const rest = normalize(doc, siblings, parentKey, depth + 1)
    return { ...(target as Record<string, Json>), ...(rest as Record<string, Json>) }
  }
  const out: Record<string, Json> = {}
  const isMap = parentKey === 'properties' || parentKey === 'paths' || parentKey === 'responses' || parentKey === 'content'
  for (const [k, v] of Object.entries(node)) {
    if (!isMap && (PROSE.has(k) || k.startsWith('x-'))) continue
    if (!isMap && (k === 'maximum' || k === 'minimum') && (v === SAFE || v === -SAFE)) continue
    out[k] = normalize(doc, v, k, depth + 1)
  }
  return out
}

function paramKey (p: Json): string {
  const o = p as Record<string, Json>
  return `${String(o.in)}:${String(o.name)}`
}

export interface Operation { readonly path: string, readonly method: string, readonly body: Json }

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head']

/** Every operation of a document, normalized, keyed "METHOD path". */
export function operations (doc: unknown): Map<string, Json> {
  const d = doc as { paths?: Record<string, Record<string, Json>> }
  const out = new Map<string, Json>()
  for (const [path, item] of Object.entries(d.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue
      out.set(`${method.toUpperCase()} ${path}`, normalize(doc as Json, op, method, 0))
    }
  }
  return out
}
