/**
 * Query strings repeat: a frontend sends the same `?k=10&method=hybrid` for every user it asks
 * about, so the zod parse of a route's querystring is kept per distinct query and a repeat gets
 * the same (frozen) parsed value. On a result-cache hit the parse was a noticeable share of the
 * request (profile of bench:http on 1M items: validation ~1.9 µs of ~37 µs per request).
 * Only successful parses are kept (an invalid query is parsed again each time, for its error);
 * queries with repeated keys or longer than MEMO_KEY_CHARS are not kept. Zod parses here are
 * pure functions of the input (coercions, defaults, enum checks, splits), which is what makes a
 * kept value the same as a fresh one.
 */
import type { FastifySchemaCompiler } from 'fastify'

/** Distinct queries kept per route; all are dropped when it fills (a client cycling through more is not helped, nor hurt). */
export const MEMO_ENTRIES = 256
/** Longest fingerprint kept: a long exclude list is parsed each time rather than kept. */
export const MEMO_KEY_CHARS = 512

type Result = ReturnType<ReturnType<FastifySchemaCompiler<unknown>>>

/** The fingerprint of a parsed query (names and string values, length-prefixed, in order), or undefined when it is not kept. */
function fingerprint (data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined
  let key = ''
  for (const name in data) {
    const value = (data as Record<string, unknown>)[name]
    if (typeof value !== 'string') return undefined
    key += `${name.length}:${name}${value.length}:${value}`
    if (key.length > MEMO_KEY_CHARS) return undefined
  }
  return key
}

function deepFreeze (value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const v of Object.values(value)) deepFreeze(v)
}

/** `compile` for every part, with the querystring validators' successful results kept per distinct query. */
export function memoizedQueryValidator<S> (compile: FastifySchemaCompiler<S>): FastifySchemaCompiler<S> {
  return (route) => {
    const validate = compile(route)
    if (route.httpPart !== 'querystring') return validate
    const kept = new Map<string, Result>()
    return (data: unknown) => {
      const key = fingerprint(data)
      if (key === undefined) return validate(data)
      const hit = kept.get(key)
      if (hit !== undefined) return hit
      const result = validate(data)
      if (typeof result === 'object' && result !== null && !('then' in result) && result.error === undefined && 'value' in result) {
        deepFreeze(result.value)
        if (kept.size >= MEMO_ENTRIES) kept.clear()
        kept.set(key, result)
      }
      return result
    }
  }
}
