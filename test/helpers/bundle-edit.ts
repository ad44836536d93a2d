/** Edits a written test bundle in place, re-recording sizes and checksums, so the loader reaches its deeper checks. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BundleError } from '../../src/model-loader/errors.js'
import { loadModel } from '../../src/model-loader/load-bundle.js'
import { encodeSafetensors, parseSafetensors, viewTensor, type DType } from '../../src/model-loader/safetensors.js'

export async function readManifest (dir: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
}

/** Replaces a file and re-records its size and checksum. */
export async function rewrite (dir: string, name: string, data: Uint8Array | string): Promise<void> {
  await writeFile(join(dir, name), data)
  const m = await readManifest(dir)
  m.files[name] = { bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, sha256: createHash('sha256').update(data).digest('hex') }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m))
}

export async function editManifest (dir: string, edit: (m: Record<string, any>) => void): Promise<void> {
  const m = await readManifest(dir)
  edit(m)
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m))
}

export type EditableTensors = Record<string, { dtype: DType, shape: number[], data: ArrayBufferView }>

/** Re-encodes the tensors file after `edit` changes the decoded tensors. */
export async function editTensors (dir: string, edit: (t: EditableTensors) => void): Promise<void> {
  const bytes = await readFile(join(dir, 'tensors.safetensors'))
  const st = parseSafetensors(bytes)
  const tensors: EditableTensors = {}
  for (const [name, info] of st.tensors) {
    const ctor = info.dtype === 'F32' ? Float32Array : info.dtype === 'F16' || info.dtype === 'U16' ? Uint16Array : info.dtype === 'I32' ? Int32Array : info.dtype === 'I8' ? Int8Array : Uint8Array
    tensors[name] = { dtype: info.dtype, shape: [...info.shape], data: viewTensor(bytes, info, ctor as typeof Uint8Array).slice() }
  }
  edit(tensors)
  await rewrite(dir, 'tensors.safetensors', encodeSafetensors(tensors))
}

/** Asserts that loading `dir` fails with a BundleError for `file` matching `pattern` (and naming `field` when given). */
export async function rejects (dir: string, file: string, pattern: RegExp, options = {}, field?: string): Promise<void> {
  await assert.rejects(loadModel(dir, options), (err: unknown) => {
    assert.ok(err instanceof BundleError, `expected BundleError, got ${String(err)}`)
    assert.equal(err.file, file)
    assert.match(err.message, pattern)
    if (field !== undefined) assert.equal(err.field, field)
    return true
  })
}
