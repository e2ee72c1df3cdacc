import Fastify from 'fastify'
import pachinko, { changeFeed } from '../../lib/index.js'
import type { ContenderServer, StartOptions } from './contender.js'
import { listen } from './listen.js'

/*
 * The change-feed bench's server (not a protocol contender): a REST write
 * route, `POST /api/items`, with `config.model`, and the feed at `/api/ws` —
 * or, with `feed: false`, the same route in a scope without the feed, the
 * baseline the feed's cost per write is measured against.
 */
export async function startWith (feed: boolean, options: StartOptions = {}): Promise<ContenderServer> {
  const app = Fastify({ logger: false })
  await app.register(pachinko)
  let next = 0
  await app.register(async (api) => {
    if (feed) await api.register(changeFeed)
    api.post('/items', {
      config: { model: 'item' },
      schema: { response: { 201: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, price: { type: 'number' } } } } }
    }, async (request, reply) => await reply.code(201).send({ id: ++next, ...(request.body as object) }))
  }, { prefix: '/api' })
  await app.ready()
  const port = await listen(app.server, options)
  return { port, path: '/api/ws', connections: () => app.ws.size, close: async () => { await app.close() } }
}
