import { buildReferenceApp } from './app.js'

/* Serves the reference app on PORT (3002) and HOST (127.0.0.1); docs/examples.md says how to talk to it. */
const app = await buildReferenceApp({ server: { logger: true }, digestMs: 5000 })
const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3002)
await app.listen({ port, host })
app.log.info(`reference example: ws://${host}:${port}/api/v1/projects/p1/tasks?token=token-ann (or token-bob)`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
