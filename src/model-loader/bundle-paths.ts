/**
 * Where a bundle's files really are. Every file is opened through its resolved real path, which
 * must lie under the root the bundle was named from (MODELS_ROOT for reloads): a directory check
 * alone let a bundle whose tensors.safetensors was a symlink to a file outside the root load, and
 * one whose manifest.json linked to /etc/passwd answered with the start of that file in its error.
 * Files must be regular files (a FIFO would block the read forever). Errors name the bundle's file
 * and the reason, never anything read from the file.
 */
import { realpath, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { FILE_NAMES } from '../bundle-format/manifest.js'
import { BundleError } from './errors.js'

function inside (root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)
}

export interface BundlePaths {
  /** The bundle directory's real path. */
  readonly dir: string
  /** The real path of a file of the bundle, checked to be a regular file under the root. */
  file (name: string): Promise<string>
}

/** Resolves `dir` under `root` (default: the bundle directory itself). */
export async function bundlePaths (dir: string, root: string = dir): Promise<BundlePaths> {
  let realRoot: string
  let realDir: string
  try {
    realRoot = await realpath(root)
    realDir = await realpath(dir)
  } catch (err) {
    // Named as the manifest, the first file a bundle must have: "no bundle here".
    throw new BundleError(FILE_NAMES.manifest, `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'} (the bundle directory cannot be opened)`)
  }
  if (!inside(realRoot, realDir)) throw new BundleError('.', 'the bundle directory resolves outside the models root')
  const resolved = new Map<string, Promise<string>>()
  const resolve = async (name: string): Promise<string> => {
    let real: string
    try {
      real = await realpath(join(realDir, name))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new BundleError(name, code === 'ENOENT' ? 'missing (cannot read: ENOENT)' : `cannot be opened: ${code ?? 'error'}`)
    }
    if (!inside(realRoot, real)) throw new BundleError(name, 'is a symlink that resolves outside the models root')
    const s = await stat(real)
    if (!s.isFile()) throw new BundleError(name, 'is not a regular file')
    return real
  }
  return {
    dir: realDir,
    file (name) {
      let p = resolved.get(name)
      if (p === undefined) {
        p = resolve(name)
        p.catch(() => {}) // the caller awaits it; a second caller gets the same answer
        resolved.set(name, p)
      }
      return p
    },
  }
}
