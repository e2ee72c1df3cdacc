import 'reflect-metadata'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import pachinko, { type PachinkoOptions, type WorkerContext } from '../../lib/index.js'
import { StatusSocket } from './status-resource.js'
import { StatusStore } from './status-store.js'

/** What `buildRandomStatusApp` needs. */
export interface RandomStatusOptions {
  /** The SQLite file (created with its table if missing). */
  databasePath: string
  /** How often every client gets a `random` message. */
  randomIntervalMs: number
  server?: FastifyServerOptions
  pachinko?: PachinkoOptions
}

/**
 * The seed project's example on Fastify: `GET /status` answers the current
 * status, `/ws` takes `status` messages that update it in SQLite and tell
 * every client, and a worker broadcasts a random number every interval.
 */
export async function buildRandomStatusApp (options: RandomStatusOptions): Promise<FastifyInstance> {
  const app = Fastify(options.server)
  await app.register(pachinko, options.pachinko ?? {})
  const store = new StatusStore(options.databasePath)
  app.addHook('onClose', async () => store.close())
  app.ws.container.registerValue(StatusStore, store)

  app.get('/status', async () => store.get())
  app.addWebSocketRoute('/ws', StatusSocket, { name: 'status' })
  app.addWebSocketWorker((context) => broadcastRandomNumbers(context, options.randomIntervalMs), { name: 'random', restart: 'on-failure' })
  return app
}

/** The worker: one `{ type: 'random', payload: <number in [0, 1)> }` to every client per interval, until the app closes. */
async function broadcastRandomNumbers ({ ws, signal }: WorkerContext, intervalMs: number): Promise<void> {
  while (!signal.aborted) {
    // an abort ends the wait early; the loop condition then ends the worker
    await sleep(intervalMs, undefined, { signal }).catch(() => {})
    if (!signal.aborted) await ws.broadcastToAll({ type: 'random', payload: Math.random() })
  }
}
