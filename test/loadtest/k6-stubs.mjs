// Loads a k6 scenario in Node to read its options: k6's modules become small stand-ins that record
// what the script declares (custom metrics, the response callback), and k6's init-context globals
// (__ENV, open) are defined. Nothing here sends a request: the tests only read `options`.
import { register } from 'node:module'

globalThis.__ENV = {}
globalThis.open = () => JSON.stringify({ users: ['u0', 'u1', 'u2'], items: ['i0', 'i1'] })
globalThis.__k6 = { metrics: [] }

const STUBS = {
  k6: 'export const check = () => true; export const sleep = () => {}',
  'k6/http': 'const http = { get () {}, post () {}, setResponseCallback () {}, expectedStatuses: (...s) => s }; export default http',
  'k6/data': 'export class SharedArray { constructor (_name, make) { return make() } }',
  'k6/metrics': ['Counter', 'Gauge', 'Rate', 'Trend'].map((kind) =>
    `export class ${kind} { constructor (name) { globalThis.__k6.metrics.push({ name, kind: '${kind}' }) } add () {} }`).join('\n'),
}

register(`data:text/javascript,${encodeURIComponent(`
const STUBS = ${JSON.stringify(STUBS)}
export async function resolve (specifier, context, next) {
  if (specifier in STUBS) return { url: 'k6stub:' + specifier, shortCircuit: true }
  return next(specifier, context)
}
export async function load (url, context, next) {
  if (url.startsWith('k6stub:')) return { format: 'module', source: STUBS[url.slice(7)], shortCircuit: true }
  return next(url, context)
}`)}`)
