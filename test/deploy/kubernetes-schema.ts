/**
 * Kubernetes manifests checked offline against the API's schemas, as packaged on the npm registry
 * by kubernetes-models (and @kubernetes-models/prometheus-operator for the ServiceMonitor):
 *
 * - the OpenAPI schema of each kind (types, required fields, enums, formats), through the
 *   package's own validate();
 * - unknown fields, which those schemas let through (they do not close objects, and neither does
 *   the API server's default decoding, which drops them: a misspelt `livenesProbe` would silently
 *   deploy a pod without a liveness probe). For those the manifests are compiled as TypeScript
 *   object literals of the package's interface types: excess property checks reject any field the
 *   type does not declare, at every depth.
 */
import { resolve } from 'node:path'
import ts from 'typescript'

export interface Manifest { apiVersion: string, kind: string, metadata: { name: string, namespace?: string, labels?: Record<string, string> }, [key: string]: unknown }

/** The module that models an apiVersion/kind. */
export function modelModule (apiVersion: string, kind: string): string {
  if (apiVersion.startsWith('monitoring.coreos.com/')) return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`
  return `kubernetes-models/${apiVersion}/${kind}`
}

/** Schema errors of one manifest ('' when valid). */
export async function schemaErrors (m: Manifest): Promise<string> {
  const mod = await import(modelModule(m.apiVersion, m.kind)) as Record<string, new (data: unknown) => { validate (): void }>
  const Model = mod[m.kind]
  if (typeof Model !== 'function') return `no model for ${m.apiVersion} ${m.kind}`
  try {
    new Model(m).validate()
    return ''
  } catch (err) {
    return (err as Error).message
  }
}

/** TypeScript's diagnostics for the manifests as literals of their interface types, one per line. */
export function unknownFieldErrors (manifests: readonly Manifest[], label: (i: number) => string): string[] {
  const file = resolve('test/deploy/__manifests__.ts')
  const imports = [...new Set(manifests.map((m) => `import type { I${m.kind} } from '${modelModule(m.apiVersion, m.kind)}'`))]
  const lines = manifests.map((m, i) => `export const m${i}: I${m.kind} = ${JSON.stringify(m)}`)
  const source = [...imports, ...lines].join('\n')
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language, ...rest) => name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => name === file || fileExists(name)
  const readFile = host.readFile.bind(host)
  host.readFile = (name) => name === file ? source : readFile(name)
  const program = ts.createProgram([file], options, host)
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line - imports.length : -1
    return `${where >= 0 ? label(where) : d.file?.fileName ?? '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`
  })
}
