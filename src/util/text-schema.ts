import { z } from 'zod'
import { ID_PATTERN } from '../bundle-format/manifest.js'

/**
 * A non-empty string of at most `maxBytes` bytes of UTF-8 without control characters: ids and tags.
 * (maxLength counts characters for the JSON schema; the byte limit is checked as well.)
 */
export function printableText (maxBytes: number): z.ZodString {
  return z.string()
    .min(1)
    .max(maxBytes)
    .regex(ID_PATTERN, 'must not contain control characters')
    .refine((s) => Buffer.byteLength(s, 'utf8') <= maxBytes, { message: `must be at most ${maxBytes} bytes of UTF-8` })
}
