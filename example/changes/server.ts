import type { AddressInfo } from 'node:net'
import { redisBackend } from '../../lib/index.js'
import { buildChangesApp } from './app.js'

/*
 * `node dist/example/changes/server.js`: the REST API and its live page on
 * PORT (3000) and HOST (127.0.0.1), the data in DB_FILE (changes.db). With
 * REDIS_URL set, several processes on different ports share one feed (and,
 * pointed at the same DB_FILE, one database): a write on one reaches the
 * pages open on every one. REDIS_PREFIX (pachinko-changes) namespaces its keys.
 */
const env = process.env
const backend = env.REDIS_URL === undefined || env.REDIS_URL === '' ? 'memory' as const : redisBackend({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX ?? 'pachinko-changes' })
const app = await buildChangesApp({ dbFile: env.DB_FILE ?? 'changes.db', pachinko: { backend }, server: { logger: { level: env.LOG_LEVEL ?? 'info' } } })
await app.listen({ port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' })
const { port } = app.server.address() as AddressInfo
app.log.info({ port }, `changes example: open http://${env.HOST ?? '127.0.0.1'}:${port}/ in two tabs, or curl -X POST -H 'content-type: application/json' -d '{"name":"Ada"}' http://127.0.0.1:${port}/api/authors`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), /* c8 ignore next */ () => process.exit(1))
  })
}
