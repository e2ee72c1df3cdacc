import { buildReferenceApp } from './app.js'

/* Serves the reference app: ws://HOST:PORT/api/v1/projects/:projectId/tasks?token=token-ann */
const app = await buildReferenceApp({ server: { logger: true }, digestMs: 5000 })
await app.listen({ port: Number(process.env.PORT ?? 3001), host: process.env.HOST ?? '127.0.0.1' })
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
