/**
 * Apps over freshly written test bundles. Each test gets its own models root (a temp dir) with
 * the bundle at `<root>/<version>`, so reload tests can add siblings next to it.
 */
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../../src/app.js'
import { createConfig, type ConfigInput } from '../../src/config.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import type { Model } from '../../src/model-loader/model.js'
import { tempDir, writeTestBundle, type TestBundleOptions } from '../helpers/bundle-fixture.js'

export const TEST_TOKEN = 'test-admin-token-0123456789'

export interface TestApp {
  readonly app: FastifyInstance
  readonly model: Model
  readonly root: string
}

export async function createTestApp (t: TestContext, o: { bundle?: TestBundleOptions, config?: ConfigInput, app?: Partial<AppOptions> } = {}): Promise<TestApp> {
  const { dir: root, cleanup } = await tempDir()
  t.after(cleanup)
  const version = o.bundle?.version ?? 'v1'
  await writeTestBundle(join(root, version), { ...o.bundle, version })
  const model = await loadModel(join(root, version))
  const config = createConfig({ MODELS_ROOT: root, ADMIN_TOKEN: TEST_TOKEN, VALIDATE_RESPONSES: 'true', ...o.config })
  const app = await buildApp({ config, model, ...o.app })
  t.after(() => app.close())
  return { app, model, root }
}

/** Inner product of user/item vectors as the engines score it (plus the item bias). */
export function dot (model: Model, query: Float32Array, row: number): number {
  const d = model.dimension
  let s = model.itemBias ? model.itemBias[row] : 0
  for (let j = 0; j < d; j++) s += query[j] * model.itemVectors[row * d + j]
  return s
}

/** codeBits - 2 * Hamming distance between a query code and item `row`. */
export function hammingScore (model: Model, code: Uint32Array, row: number): number {
  let dist = 0
  for (let w = 0; w < model.codeWords; w++) {
    let x = (code[w] ^ model.itemCodes[row * model.codeWords + w]) >>> 0
    while (x !== 0) { x &= x - 1; dist++ }
  }
  return model.codeBits - 2 * dist
}

/** Exact top-k rows by a score function (ties: lower row first), the reference for the engines. */
export function referenceTopK (n: number, k: number, score: (row: number) => number, skip: (row: number) => boolean = () => false): { rows: number[], scores: number[] } {
  const all: { row: number, s: number }[] = []
  for (let r = 0; r < n; r++) if (!skip(r)) all.push({ row: r, s: score(r) })
  all.sort((a, b) => b.s - a.s || a.row - b.row)
  const top = all.slice(0, k)
  return { rows: top.map((x) => x.row), scores: top.map((x) => x.s) }
}

export interface Problem { type: string, title: string, status: number, detail?: string, instance?: string, requestId?: string, invalidParams?: { name: string, reason: string }[] }
