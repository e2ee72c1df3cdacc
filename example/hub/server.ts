import type { AddressInfo } from 'node:net'
import { redisBackend } from '../../lib/index.js'
import { buildHubApp } from './app.js'

/*
 * `node dist/example/hub/server.js`: the hub chat on PORT (3000) and HOST
 * (127.0.0.1); with REDIS_URL set, several processes form one chat.
 */
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const redisUrl = process.env.REDIS_URL
const backend = redisUrl === undefined || redisUrl === '' ? 'memory' as const : redisBackend({ url: redisUrl, prefix: process.env.REDIS_PREFIX ?? 'pachinko-hub' })

const app = await buildHubApp({ server: { logger: true }, pachinko: { backend } })
await app.listen({ port, host })
const address = app.server.address() as AddressInfo
app.log.info(`hub example: open http://${host}:${address.port}/?user=ann in one tab and ?user=bob in another`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}
