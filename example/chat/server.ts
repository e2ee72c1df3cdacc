import { redisBackend } from '../../lib/index.js'
import { buildChatApp } from './app.js'

/*
 * `npm start`: serves the chat on PORT (3000) and HOST (127.0.0.1). With
 * REDIS_URL set, rooms live in Redis, so several processes on different
 * ports form one chat; REDIS_PREFIX (pachinko-chat) namespaces its keys, so
 * several chats can share one Redis.
 */
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const redisUrl = process.env.REDIS_URL
const prefix = process.env.REDIS_PREFIX === undefined || process.env.REDIS_PREFIX === '' ? 'pachinko-chat' : process.env.REDIS_PREFIX
const backend = redisUrl === undefined || redisUrl === '' ? 'memory' as const : redisBackend({ url: redisUrl, prefix })

const app = await buildChatApp({ server: { logger: true }, pachinko: { backend } })
await app.listen({ port, host })
app.log.info(`chat example: open http://${host}:${port}/ in two tabs (backend: ${app.ws.backend.name})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info(`${signal}: closing`)
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.log.error({ err }, 'close failed')
      process.exit(1)
    })
  })
}
