/**
 * A worker thread running a module that sits next to the caller's file: `name.js` once compiled,
 * `name.ts` under tsx (tests, `npm run train`). Node 20 does not hand tsx's loader hooks to worker
 * threads (measured: ERR_UNKNOWN_FILE_EXTENSION even with execArgv ['--import', 'tsx']), so a .ts
 * worker starts from a bootstrap that registers tsx's ESM API and then imports the module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'

export function createModuleWorker (callerUrl: string, name: string, options?: WorkerOptions): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options)
  const api = import.meta.resolve('tsx/esm/api')
  const entry = new URL(`./${name}.ts`, callerUrl).href
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`, { ...options, eval: true })
}
