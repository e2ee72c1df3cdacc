import { buildReferenceApp } from './app.js'

/* Serves the reference app on PORT (3002) and HOST (127.0.0.1); docs/examples.md says how to talk to it. */
const app = await buildReferenceApp({ server: { logger: true }, digestMs: 5000 })
await app.listen({ port: Number(process.env.PORT ?? 3002), host: process.env.HOST ?? '127.0.0.1' })
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
