/**
 * CORS for the product frontends that call hashrec from browsers. Only the configured origins
 * get CORS headers; with none configured the plugin adds nothing (same-origin and server-side
 * callers need none).
 */
import cors from '@fastify/cors'
import fp from 'fastify-plugin'

export interface CorsOptions {
  readonly origins: readonly string[]
}

export default fp<CorsOptions>(async (app, options) => {
  if (options.origins.length === 0) return
  await app.register(cors, {
    origin: options.origins.includes('*') ? '*' : [...options.origins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'authorization', 'x-request-id'],
    exposedHeaders: ['x-request-id'],
    // Browsers cap preflight caching (Chromium at 2 h); 10 min keeps origin changes quick to apply.
    maxAge: 600,
  })
}, { name: 'hashrec-cors', fastify: '5.x' })
