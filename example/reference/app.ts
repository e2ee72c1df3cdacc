import 'reflect-metadata'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import pachinko from '../../lib/index.js'
import { Project } from './resources.js'
import { ProjectStore, TOKENS } from './store.js'

/**
 * The reference app: a router prefix, nested resources with schema dispatch,
 * DI, an auth check before the upgrade plus an auth hook, a logging hook and
 * a worker, together.
 */
export async function buildReferenceApp (options: { server?: FastifyServerOptions, digestMs: number }): Promise<FastifyInstance> {
  const app = Fastify(options.server)
  await app.register(pachinko, {
    hooks: {
      // logging: one line per handled message, with how long it took
      beforeMessage: (ctx) => { (ctx.state as { startedAt: number }).startedAt = performance.now() },
      afterMessage: (ctx) => {
        const ms = performance.now() - (ctx.state as { startedAt: number }).startedAt
        ctx.log.info({ tag: ctx.tag, ms: Number(ms.toFixed(2)), failed: ctx.error !== undefined }, 'message handled')
      }
    }
  })
  app.ws.container.register(ProjectStore)

  await app.register(async (api) => {
    // auth, part 2: who the connection is, for every resource of this context
    api.addWebSocketHook('beforeConnect', (ctx) => {
      ctx.state.user = TOKENS[String((ctx.request.query as { token?: string }).token)]
    })
    api.addWebSocketRoute('/projects/:projectId', Project, {
      name: 'project',
      // auth, part 1: an unknown token never gets a socket (HTTP 403)
      authorize: (request) => TOKENS[String((request.query as { token?: string }).token)] !== undefined
    })
  }, { prefix: '/api/v1' })

  // every few seconds, each project room with members gets a digest
  app.addWebSocketWorker(async ({ ws, signal, container }) => {
    const store = await container.resolve(ProjectStore)
    while (!signal.aborted) {
      await sleep(options.digestMs, undefined, { signal }).catch(() => {})
      if (signal.aborted) return
      for (const room of await ws.roomsByPrefix('project:')) {
        await ws.broadcastToRoom(room, { type: 'digest', payload: store.counts(room.slice('project:'.length)) })
      }
    }
  }, { name: 'digest', restart: 'on-failure' })

  return app
}
