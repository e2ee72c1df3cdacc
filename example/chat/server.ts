import type { AddressInfo } from 'node:net'
import { redisBackend } from '../../lib/index.js'
import { buildChatApp } from './app.js'
import { readChatConfig } from './config.js'

/*
 * `npm start`: serves the chat on PORT (3000) and HOST (127.0.0.1). With
 * REDIS_URL set, rooms live in Redis, so several processes on different
 * ports form one chat; REDIS_PREFIX (pachinko-chat) namespaces its keys, so
 * several chats can share one Redis.
 */
const config = readChatConfig(process.env)
const backend = config.redisUrl === undefined ? 'memory' as const : redisBackend({ url: config.redisUrl, prefix: config.redisPrefix })

const app = await buildChatApp({ server: { logger: true }, pachinko: { backend } })
await app.listen({ port: config.port, host: config.host })
const { port } = app.server.address() as AddressInfo
app.log.info(`chat example: open http://${config.host}:${port}/ in two tabs (backend: ${app.ws.snapshot().backend})`)

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
