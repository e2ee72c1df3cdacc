import 'reflect-metadata'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import pachinko, { type PachinkoOptions } from '../../lib/index.js'
import { ChatRoom } from './chat-room.js'

/** The multi-room chat: the page at `/`, the socket at `/ws/chat/:room?user=NAME`. */
export async function buildChatApp (options: { server?: FastifyServerOptions, pachinko?: PachinkoOptions } = {}): Promise<FastifyInstance> {
  const app = Fastify(options.server)
  await app.register(pachinko, options.pachinko ?? {})
  app.addWebSocketRoute('/ws/chat/:room', ChatRoom, { name: 'chat.room' })
  const page = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8')
  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(page))
  app.get('/health', async () => app.ws.snapshot())
  return app
}
