/**
 * The contract and its interactive docs. In 'static' mode (the service) the hand-written
 * openapi.yaml is what /docs and /openapi.yaml show; in 'generated' mode (the agreement test)
 * @fastify/swagger builds a spec from the routes' zod schemas so the two can be compared.
 */
import { readFileSync } from 'node:fs'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { parse } from 'yaml'

/** openapi.yaml at the repository root: two levels up from both src/plugins and dist/plugins. */
export const OPENAPI_PATH = new URL('../../openapi.yaml', import.meta.url)

export interface DocsOptions {
  readonly mode: 'static' | 'generated'
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The contract as served at /openapi.yaml. */
    openapiText: string
  }
}

export default fp<DocsOptions>(async (app, options) => {
  const text = readFileSync(OPENAPI_PATH, 'utf8')
  app.decorate('openapiText', text)
  if (options.mode === 'static') {
    await app.register(swagger, { mode: 'static', specification: { document: parse(text) } })
  } else {
    const document = parse(text) as { openapi: string, info: { title: string, version: string }, components?: { securitySchemes?: Record<string, never> } }
    await app.register(swagger, {
      openapi: { openapi: document.openapi, info: document.info, components: { securitySchemes: document.components?.securitySchemes ?? {} } },
      transform: jsonSchemaTransform,
    })
  }
  await app.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'hashrec-docs', fastify: '5.x' })
