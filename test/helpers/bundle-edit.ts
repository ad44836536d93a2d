/**
 * Edits of a written bundle for tests of corrupt input: each rewrite re-records the file's size
 * and checksum in the manifest, so the loader gets past its checksums to the deeper check.
 */
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeSafetensors, parseSafetensors, viewTensor } from '../../src/model-loader/safetensors.js'

export async function readManifest (dir: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
}

/** Replaces a file and re-records its size and checksum, so the loader reaches the deeper check. */
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

export type EditableTensors = Record<string, { dtype: 'F32' | 'U8' | 'F16' | 'I32', shape: number[], data: ArrayBufferView }>

/** Re-encodes the tensors file after `edit` changes the decoded tensors. */
export async function editTensors (dir: string, edit: (t: EditableTensors) => void): Promise<void> {
  const bytes = await readFile(join(dir, 'tensors.safetensors'))
  const st = parseSafetensors(bytes)
  const tensors: Record<string, { dtype: any, shape: number[], data: ArrayBufferView }> = {}
  for (const [name, info] of st.tensors) {
    const ctor = info.dtype === 'F32' ? Float32Array : info.dtype === 'F16' ? Uint16Array : info.dtype === 'I32' ? Int32Array : Uint8Array
    tensors[name] = { dtype: info.dtype, shape: [...info.shape], data: viewTensor(bytes, info, ctor as typeof Uint8Array).slice() }
  }
  edit(tensors)
  await rewrite(dir, 'tensors.safetensors', encodeSafetensors(tensors))
}
