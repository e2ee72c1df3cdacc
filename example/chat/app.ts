import 'reflect-metadata'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import pachinko, { type PachinkoOptions } from '../../lib/index.js'
import { ChatRoom } from './chat-room.js'
import { readClientFiles } from './client-files.js'

const MAX_ROOMS_LISTED = 50

/** The multi-room chat: the page at `/`, the socket at `/ws/chat/:room?user=NAME`. */
export async function buildChatApp (options: { server?: FastifyServerOptions, pachinko?: PachinkoOptions } = {}): Promise<FastifyInstance> {
  const app = Fastify(options.server)
  await app.register(pachinko, options.pachinko ?? {})
  app.addWebSocketRoute('/ws/chat/:room', ChatRoom, { name: 'chat.room' })
  const page = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8')
  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(page))
  // the page's socket is fastify-pachinko/client, imported as ES modules
  const clientFiles = readClientFiles()
  app.get<{ Params: { file: string } }>('/client/:file', async (request, reply) => {
    const source = clientFiles.get(request.params.file)
    if (source === undefined) return await reply.code(404).send({ error: 'Not Found' })
    return await reply.type('text/javascript; charset=utf-8').send(source)
  })
  app.get('/health', async () => app.ws.snapshot())
  // the page's room switcher: the rooms people are in now, busiest first, on every node
  app.get('/rooms', async () => {
    const rooms = await Promise.all((await app.ws.roomsByPrefix('')).map(async (name) => ({ name, users: await app.ws.roomSize(name) })))
    return { rooms: rooms.sort((a, b) => b.users - a.users || a.name.localeCompare(b.name)).slice(0, MAX_ROOMS_LISTED) }
  })
  return app
}
