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
/** package.json beside it: the API's title and version come from it, so a release bumps one place. */
export const PACKAGE_PATH = new URL('../../package.json', import.meta.url)

/** The document as served: openapi.yaml with the title and version of package.json. */
export interface ServedDocument {
  openapi: string
  info: { title: string, version: string }
  paths: Record<string, never>
  components?: { securitySchemes?: Record<string, never> }
}

export function servedDocument (text: string): ServedDocument {
  const pkg = JSON.parse(readFileSync(PACKAGE_PATH, 'utf8')) as { name: string, version: string }
  const document = parse(text) as ServedDocument
  document.info = { ...document.info, title: pkg.name, version: pkg.version }
  return document
}

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
  const document = servedDocument(text)
  if (options.mode === 'static') {
    await app.register(swagger, { mode: 'static', specification: { document } })
  } else {
    await app.register(swagger, {
      openapi: { openapi: document.openapi, info: document.info, components: { securitySchemes: document.components?.securitySchemes ?? {} } },
      transform: jsonSchemaTransform,
    })
  }
  await app.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'hashrec-docs', fastify: '5.x' })
