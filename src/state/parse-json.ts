import type { z } from 'zod'

/** `raw` parsed as JSON and checked against `schema` (input from Redis); null when either fails. */
export function parseJsonWith<S extends z.ZodType> (schema: S, raw: string): z.output<S> | null {
  try {
    const parsed = schema.safeParse(JSON.parse(raw))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
