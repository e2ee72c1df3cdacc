import type { AddressInfo } from 'node:net'
import { buildRandomStatusApp } from './app.js'
import { readConfig } from './config.js'

/*
 * `node dist/example/random_status/server.js` (after `npm run build`):
 * HTTP and WebSocket on PORT (3003) and HOST (127.0.0.1), the status in
 * DATABASE_PATH (a file under the OS temp dir), a random number to every
 * client every RANDOM_INTERVAL_MS (5000).
 */
const config = readConfig(process.env)
const app = await buildRandomStatusApp({ ...config, server: { logger: true } })
await app.listen({ port: config.port, host: config.host })
const { port } = app.server.address() as AddressInfo
app.log.info({ port, databasePath: config.databasePath }, `random_status: GET http://${config.host}:${port}/status, WebSocket ws://${config.host}:${port}/ws`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info(`${signal}: closing`)
    app.close().then(() => process.exit(0), closeFailed)
  })
}

// close() rejects only if an onClose hook throws, and none of this app's does
/* c8 ignore start */
function closeFailed (err: unknown): void {
  app.log.error({ err }, 'close failed')
  process.exit(1)
}
/* c8 ignore stop */
