import 'reflect-metadata'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import pachinko, { type PachinkoOptions } from '../../lib/index.js'
import { DirectChannel, isName, RoomChannel } from './channels.js'

/** The official client's browser build, served from node_modules (no CDN). */
function phoenixBrowserBuild (): string {
  const entry = createRequire(import.meta.url).resolve('phoenix')
  return readFileSync(join(dirname(entry), 'phoenix.mjs'), 'utf8')
}

/**
 * The chat on the channels hub: the page at `/` (the official `phoenix`
 * client), the hub at `/socket`. Rooms are `room:{name}` topics, each user's
 * inbox for direct messages is `user:{id}`.
 */
export async function buildHubApp (options: { server?: FastifyServerOptions, pachinko?: PachinkoOptions } = {}): Promise<FastifyInstance> {
  const app = Fastify(options.server)
  await app.register(pachinko, options.pachinko ?? {})
  const hub = app.addWebSocketHub('/socket', {
    // the socket's params: `new Socket('/socket', { params: { user } })`; a bad name is HTTP 403 before the upgrade
    connect: (params) => isName(params.user) ? { user: params.user } : false
  })
  hub.channel('room:{name}', RoomChannel, { presence: true })
  hub.channel('user:{id}', DirectChannel)
  const page = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8')
  const client = phoenixBrowserBuild()
  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(page))
  app.get('/phoenix.mjs', async (_request, reply) => await reply.type('text/javascript; charset=utf-8').send(client))
  return app
}
