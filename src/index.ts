/**
 * Process entry: config from the environment, the model from MODEL_DIR, listen, and drain on
 * SIGTERM/SIGINT with close-with-grace.
 */
import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import { buildApp, loggerOptions } from './app.js'
import { runPrimary } from './cluster.js'
import { ConfigError, loadConfig, stateOptions, workerCount, type Config } from './config.js'
import { loadModel } from './model-loader/load-bundle.js'
import { openReplicatedStore, processChannel, type ReplicatedStore } from './state/replicated-store.js'

async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(1)
    }
    throw err
  }

  const workers = workerCount(config)
  if (workers > 1 && cluster.isPrimary) {
    runPrimary({ workers, shutdownDelayMs: config.SHUTDOWN_DELAY_MS, state: config.REDIS_URL === undefined ? stateOptions(config) : null })
    return
  }

  // A worker of our primary without Redis: its in-process state is a replica the primary keeps in
  // step with the other workers' (opened before the app, which takes it as its state store).
  let warn = (msg: string, fields?: Record<string, unknown>): void => { process.stderr.write(`${JSON.stringify({ level: 40, msg, ...fields })}\n`) }
  let replicated: ReplicatedStore | undefined
  if (cluster.isWorker && config.REDIS_URL === undefined) {
    replicated = await openReplicatedStore(processChannel(), { ...stateOptions(config), id: cluster.worker!.id, writeTimeoutMs: config.REDIS_WRITE_TIMEOUT_MS, log: (msg, fields) => warn(msg, fields) })
  }

  const app = await buildApp({ config, model: null, logger: loggerOptions(config), stateStore: replicated })
  const log = app.log
  warn = (msg, fields) => log.warn(fields ?? {}, msg)
  if (replicated) {
    const store = replicated
    app.addHook('onClose', async () => { await store.close() })
  }
  if (cluster.isWorker) {
    // Which process answered: for debugging the balance (and the cluster test).
    const pid = String(process.pid)
    app.addHook('onRequest', (_request, reply, done) => { reply.header('x-hashrec-worker', pid); done() })
  }

  closeWithGrace({ delay: config.SHUTDOWN_DELAY_MS }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down: draining in-flight requests')
    await app.close()
  })

  // The model loads before listening: a process that listens is one that can serve. The model the
  // replicas serve (recorded in the state store by the last reload) wins over MODEL_DIR.
  const started = performance.now()
  const recorded = await app.realtime.recordedModel()
  if (recorded !== null) {
    try {
      await app.modelStore.reload(recorded.path)
    } catch (err) {
      log.warn({ err, path: recorded.path, version: recorded.version }, 'could not load the recorded active model: falling back to MODEL_DIR')
    }
  }
  if (app.modelStore.active === null) {
    const fallback = await loadModel(config.MODEL_DIR, { log: (msg, fields) => log.info(fields ?? {}, msg) })
    // An announcement may have swapped a model in meanwhile; it wins over MODEL_DIR.
    if (app.modelStore.active === null) app.modelStore.activate(fallback)
  }
  // The int8 copy of a large catalog is built in slices after activation, and the most active
  // users' answers are warmed (WARM_UP_USERS): both finish before listening, so the first requests
  // are as fast as the rest.
  const warm = await app.modelStore.ready(app.modelStore.active!)
  const model = app.modelStore.active!.model
  log.info({ model: model.id, version: model.version, items: model.items.size, users: model.users.size, warmedAnswers: warm.answers, ms: Math.round(performance.now() - started) }, 'model loaded')

  const address = await app.listen({ port: config.PORT, host: config.HOST })
  const shown = config.HOST === '0.0.0.0' || config.HOST === '::' ? address.replace(/\/\/[^:/]+|\/\/\[[^\]]+\]/, '//localhost') : address
  log.info({ address }, 'listening')
  process.stdout.write(`hashrec serving ${model.id}@${model.version} at ${shown} (docs: ${shown}/docs, metrics: ${shown}/metrics)\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`hashrec failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
