/**
 * No function in src/ runs over MAX_LINES lines: one that long holds several things (a closure
 * that keeps mutable scratch for many concerns is a class or a few modules in disguise). Every
 * function-like node counts (declarations, expressions, arrows, methods, accessors,
 * constructors), from its first line to its last, nested functions included; a generated-code
 * builder is split into helpers like anything else.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import ts from 'typescript'
import { sourceFiles } from './source-files.js'

const MAX_LINES = 150

/** Every function of a source text longer than `max` lines, as `path:line name (n lines)`. */
export function longFunctions (path: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line
      const lines = last - first + 1
      if (lines > max) found.push(`${path}:${first + 1} ${node.name?.getText(sf) ?? '(anonymous)'} (${lines} lines)`)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

test(`no function in src/ is longer than ${MAX_LINES} lines`, () => {
  const files = sourceFiles()
  assert.ok(files.length > 50, 'the sources were found')
  assert.deepEqual(files.flatMap((f) => longFunctions(f.path, f.text, MAX_LINES)), [])
})

test('the length check counts a function from its first line to its last, nested ones and methods too', () => {
  const body = (n: number): string => Array.from({ length: n }, (_, i) => `  const x${i} = ${i}`).join('\n')
  const text = [
    `function outer () {\n${body(3)}\n  const inner = () => {\n${body(4)}\n  }\n}`,
    `class C {\n  method () {\n${body(5)}\n  }\n}`,
  ].join('\n')
  assert.deepEqual(longFunctions('x.ts', text, 6), ['x.ts:1 outer (11 lines)', 'x.ts:13 method (7 lines)'])
  assert.deepEqual(longFunctions('x.ts', text, 11), [])
})
