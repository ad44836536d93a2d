/** The TypeScript sources under src/, read once for the structure tests. */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

export interface SourceFile {
  /** Path under src/, with forward slashes: `search/engines.ts`. */
  readonly path: string
  readonly text: string
}

function walk (dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) walk(full, out)
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full)
  }
  return out
}

export function sourceFiles (): SourceFile[] {
  return walk(SRC, []).sort().map((full) => ({ path: relative(SRC, full).split(sep).join('/'), text: readFileSync(full, 'utf8') }))
}
