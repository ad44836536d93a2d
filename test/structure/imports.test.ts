/**
 * Imports point down. Each src/ folder (and each file at the top of src/) is one node; an import
 * from one node to another is an edge, type-only imports included (a type shared both ways is a
 * definition in the wrong place: it belongs in a leaf such as src/bundle-format or src/defaults.ts).
 * A cycle between nodes fails, named with one import of each of its edges.
 */
import assert from 'node:assert/strict'
import { posix } from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'
import { sourceFiles, type SourceFile } from './source-files.js'

/** The node a path under src/ belongs to: its top folder, or the file itself at the top. */
function nodeOf (path: string): string {
  const slash = path.indexOf('/')
  return slash < 0 ? path : path.slice(0, slash + 1)
}

/** Relative imports of a file (static, re-exports, type-only and dynamic), resolved to paths under src/. */
function importsOf (file: SourceFile): string[] {
  const info = ts.preProcessFile(file.text, true, true)
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => posix.normalize(posix.join(posix.dirname(file.path), name)).replace(/\.js$/, '.ts'))
}

/** Edges between nodes, each with one import that makes it. */
function nodeGraph (files: readonly SourceFile[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>()
  for (const file of files) {
    const from = nodeOf(file.path)
    const edges = graph.get(from) ?? new Map<string, string>()
    graph.set(from, edges)
    for (const target of importsOf(file)) {
      const to = nodeOf(target)
      if (to !== from && !edges.has(to)) edges.set(to, `${file.path} -> ${target}`)
    }
  }
  return graph
}

/** Strongly connected components with more than one node (Tarjan): every import cycle between nodes. */
export function cycles (graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  let next = 0
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do { w = stack.pop()!; onStack.delete(w); component.push(w) } while (w !== v)
      if (component.length > 1) found.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

function describe (graph: ReadonlyMap<string, ReadonlyMap<string, string>>, component: readonly string[]): string {
  const members = new Set(component)
  const lines: string[] = []
  for (const from of component) for (const [to, example] of graph.get(from) ?? []) if (members.has(to)) lines.push(`  ${example}`)
  return `${component.join(' <-> ')}\n${lines.join('\n')}`
}

test('no import cycle between src/ folders (or the files at the top of src/)', () => {
  const graph = nodeGraph(sourceFiles())
  assert.ok(graph.size > 10, 'the sources were found')
  const found = cycles(graph)
  assert.deepEqual(found.map((c) => describe(graph, c)), [])
})

test('the cycle check finds a cycle through several nodes, and none in a chain', () => {
  const edges = (pairs: Array<[string, string]>): Map<string, Map<string, string>> => {
    const g = new Map<string, Map<string, string>>()
    for (const [a, b] of pairs) {
      if (!g.has(b)) g.set(b, new Map())
      g.set(a, (g.get(a) ?? new Map()).set(b, `${a}x.ts -> ${b}y.ts`))
    }
    return g
  }
  assert.deepEqual(cycles(edges([['a/', 'b/'], ['b/', 'c/'], ['c/', 'a/'], ['c/', 'd.ts']])), [['a/', 'b/', 'c/']])
  assert.deepEqual(cycles(edges([['a/', 'b/'], ['b/', 'c/'], ['a/', 'c/']])), [])
})

test('domain folders never import fastify, and config imports nothing but the shared defaults and utilities', () => {
  const domain = ['bundle-format/', 'bundler/', 'hashing/', 'model-loader/', 'search/', 'recommend/', 'realtime/', 'state/', 'serving/', 'trainer/', 'util/']
  const offenders: string[] = []
  for (const file of sourceFiles()) {
    const info = ts.preProcessFile(file.text, true, true)
    if (domain.includes(nodeOf(file.path)) && info.importedFiles.some((f) => f.fileName === 'fastify' || f.fileName.startsWith('fastify-') || f.fileName.startsWith('@fastify/'))) offenders.push(file.path)
    if (file.path === 'config.ts') for (const target of importsOf(file)) if (target !== 'defaults.ts' && !target.startsWith('util/')) offenders.push(`config.ts -> ${target}`)
  }
  assert.deepEqual(offenders, [])
})
