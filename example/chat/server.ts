import { buildChatApp } from './app.js'

/* `npm start`: serves the chat on PORT (3000) and HOST (127.0.0.1). */
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const app = await buildChatApp({ server: { logger: true } })
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
