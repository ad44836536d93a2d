import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { parse } from 'yaml'
import { buildApp } from '../../src/app.js'
import { createConfig } from '../../src/config.js'
import { OPENAPI_PATH, PACKAGE_PATH } from '../../src/plugins/docs.js'
import { operations } from './openapi-compare.js'

async function generatedSpec (): Promise<unknown> {
  // Admin routes and CORS on, so every route the service can register is in the generated spec.
  const config = createConfig({ ADMIN_TOKEN: 'a'.repeat(32), CORS_ORIGINS: 'https://shop.example', VALIDATE_RESPONSES: 'true' })
  const app = await buildApp({ config, model: null, createEngines: () => { throw new Error('no model in this test') }, openapi: 'generated' })
  await app.ready()
  const spec = app.swagger()
  await app.close()
  return spec
}

test('openapi.yaml and the routes\' zod schemas describe the same operations, parameters, bodies and responses', async () => {
  const written = operations(parse(await readFile(OPENAPI_PATH, 'utf8')))
  const generated = operations(await generatedSpec())
  assert.deepEqual([...written.keys()].sort(), [...generated.keys()].sort(), 'the same routes')
  for (const [key, op] of generated) assert.deepEqual(written.get(key), op, `${key} agrees with openapi.yaml`)
})

test('the agreement check fails when openapi.yaml drifts from a route', async () => {
  const doc = parse(await readFile(OPENAPI_PATH, 'utf8')) as { components: { parameters: { K: { schema: { maximum: number } } } } }
  doc.components.parameters.K.schema.maximum = 999
  const written = operations(doc)
  const generated = operations(await generatedSpec())
  const key = 'GET /v1/users/{userId}/recommendations'
  assert.notDeepEqual(written.get(key), generated.get(key))
})

test('GET /openapi.yaml serves the contract file and /docs serves the interactive docs', async () => {
  const config = createConfig({ VALIDATE_RESPONSES: 'true' })
  const app = await buildApp({ config, model: null, createEngines: () => { throw new Error('unused') } })
  const yaml = await app.inject({ method: 'GET', url: '/openapi.yaml' })
  assert.equal(yaml.statusCode, 200)
  assert.match(yaml.headers['content-type'] as string, /^application\/yaml/)
  assert.equal(yaml.body, await readFile(OPENAPI_PATH, 'utf8'))
  const docs = await app.inject({ method: 'GET', url: '/docs/' })
  assert.equal(docs.statusCode, 200)
  assert.match(docs.body, /swagger-ui/i)
  const json = await app.inject({ method: 'GET', url: '/docs/json' })
  assert.equal(json.statusCode, 200)
  assert.ok('/v1/users/{userId}/recommendations' in (json.json() as { paths: Record<string, unknown> }).paths)
  await app.close()
})

test('Swagger works out of the box: every parameter and request body in openapi.yaml has an example, and the title and version are package.json\'s', async () => {
  type Node = Record<string, unknown>
  const doc = parse(await readFile(OPENAPI_PATH, 'utf8')) as { info: { title: string, version: string }, paths: Record<string, Record<string, Node>>, components: { parameters: Record<string, Node> } }
  const pkg = JSON.parse(await readFile(PACKAGE_PATH, 'utf8')) as { name: string, version: string }
  assert.deepEqual([doc.info.title, doc.info.version], [pkg.name, pkg.version], 'openapi.yaml says what package.json says')
  const resolve = (p: Node): Node => typeof p.$ref === 'string' ? doc.components.parameters[p.$ref.split('/').pop()!] : p
  const missing: string[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const p of (op.parameters as Node[] | undefined) ?? []) {
        const param = resolve(p)
        if (param.example === undefined && param.examples === undefined) missing.push(`${method} ${path} ${String(param.in)}.${String(param.name)}`)
      }
      const body = op.requestBody as { content: Record<string, Node> } | undefined
      if (body !== undefined) for (const [type, media] of Object.entries(body.content)) if (media.example === undefined && media.examples === undefined) missing.push(`${method} ${path} body ${type}`)
    }
  }
  assert.deepEqual(missing, [])
  const app = await buildApp({ config: createConfig({}), model: null, createEngines: () => { throw new Error('unused') } })
  const json = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { info: { title: string, version: string } }
  assert.deepEqual([json.info.title, json.info.version], [pkg.name, pkg.version])
  await app.close()
})
