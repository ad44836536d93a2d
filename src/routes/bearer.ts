/** The bearer-token check of the operator routes and of catalog rule changes. */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { HttpProblem } from '../errors.js'

// Comparing digests makes the comparison constant time in the token's length as well as its bytes.
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/** A hook that refuses a request (401 problem) unless it carries `Authorization: Bearer <token>`. */
export function requireBearer (token: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token)
  return async (request, reply) => {
    const header = request.headers.authorization
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null
    if (match === null || !timingSafeEqual(digest(match[1]), expected)) {
      reply.header('www-authenticate', 'Bearer realm="hashrec-admin"')
      throw new HttpProblem('unauthorized', match === null ? 'an Authorization: Bearer header is required' : 'the bearer token is not valid')
    }
  }
}
