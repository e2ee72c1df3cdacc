import type { AddressInfo } from 'node:net'
import { buildChangesApp } from './app.js'
import { readChangesConfig } from './config.js'

/*
 * `node dist/example/changes/server.js`: the REST API and its live page (see
 * config.ts for the environment). With REDIS_URL set, several processes on
 * different ports share one feed (and, pointed at the same DB_FILE, one
 * database): a write on one reaches the pages open on every one.
 */
const config = readChangesConfig(process.env)
const app = await buildChangesApp({ dbFile: config.dbFile, pachinko: { backend: config.backend }, server: { logger: { level: config.logLevel } } })
await app.listen({ port: config.port, host: config.host })
const { port } = app.server.address() as AddressInfo
app.log.info({ port }, `changes example: open http://${config.host}:${port}/ in two tabs, or curl -X POST -H 'content-type: application/json' -d '{"name":"Ada"}' http://${config.host}:${port}/api/authors`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // close() rejects only if an onClose hook throws, and none of this app's does
    app.close().then(() => process.exit(0), /* c8 ignore next */ () => process.exit(1))
  })
}
