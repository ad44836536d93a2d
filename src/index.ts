/**
 * Process entry: config from the environment, the model from MODEL_DIR, listen, and drain on
 * SIGTERM/SIGINT with close-with-grace.
 */
import closeWithGrace from 'close-with-grace'
import { buildApp, loggerOptions } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { loadModel } from './model-loader/load-bundle.js'

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

  const app = await buildApp({ config, model: null, logger: loggerOptions(config), validateResponses: config.VALIDATE_RESPONSES })
  const log = app.log

  closeWithGrace({ delay: config.SHUTDOWN_DELAY_MS }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down: draining in-flight requests')
    await app.close()
  })

  // The model loads before listening: a process that listens is one that can serve.
  const started = performance.now()
  const model = await loadModel(config.MODEL_DIR, { log: (msg, fields) => log.info(fields ?? {}, msg) })
  app.modelStore.activate(model)
  log.info({ model: model.id, version: model.version, items: model.items.size, users: model.users.size, ms: Math.round(performance.now() - started) }, 'model loaded')

  const address = await app.listen({ port: config.PORT, host: config.HOST })
  const shown = config.HOST === '0.0.0.0' || config.HOST === '::' ? address.replace(/\/\/[^:/]+|\/\/\[[^\]]+\]/, '//localhost') : address
  log.info({ address }, 'listening')
  process.stdout.write(`hashrec serving ${model.id}@${model.version} at ${shown} (docs: ${shown}/docs, metrics: ${shown}/metrics)\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`hashrec failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
