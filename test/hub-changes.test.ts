import 'reflect-metadata'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import pachinko, { Channel, changeFeed } from '../lib/index.js'
import { join, listen, next, phoenix } from './helpers/phoenix.js'

/* The change feed's events as hub topics: a Phoenix client subscribes to changes:<model> like any topic. */

class Changes extends Channel<{ model: string }> {
  override onJoin (payload: { token?: string }) {
    if (payload.token !== 'reader') return false           // the hub's own join rule guards the feed
    return { watching: this.params.model }
  }
}

async function app (t: Test, changes: boolean | { prefix: string } = true): Promise<{ app: FastifyInstance, url: string }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko)
  await app.register(async (api) => {
    await api.register(changeFeed, { path: '/ws' })
    api.post('/authors', { config: { model: 'author' } }, async (request) => ({ id: 7, ...(request.body as object) }))
  }, { prefix: '/api' })
  const prefix = typeof changes === 'object' ? changes.prefix : 'changes:'
  app.addWebSocketHub('/socket', { changes }).channel(`${prefix}{model}`, Changes)
  return { app, url: await listen(app) }
}

t.test('a write reaches the hub topics changes:<model> and changes:all, authorised by the channel', async (t) => {
  const { app: server, url } = await app(t)
  const socket = phoenix(t, url)
  const author = socket.channel('changes:author', { token: 'reader' })
  const all = socket.channel('changes:all', { token: 'reader' })
  t.match(await join(author), { status: 'ok', response: { watching: 'author' } })
  t.match(await join(all), { status: 'ok' })
  t.match(await join(socket.channel('changes:book', {})), { status: 'error' }, 'no token, no subscription')
  const [onAuthor, onAll] = [next(author, 'change'), next(all, 'change')]
  const response = await server.inject({ method: 'POST', url: '/api/authors', payload: { name: 'Ada' } })
  t.equal(response.statusCode, 200)
  for (const event of [await onAuthor, await onAll]) {
    t.match(event, { model: 'author', method: 'POST', id: 7, many: false, payload: { id: 7, name: 'Ada' } })
    t.type(event.ts, 'number')
  }
  const manual = next(author, 'change')
  await server.ws.publishChange({ model: 'author', method: 'DELETE', id: 7 })
  t.match(await manual, { method: 'DELETE', id: 7 }, 'publishChange reaches the hub too')
})

t.test('takes its own topic prefix, and refuses a bad one', async (t) => {
  const { app: server, url } = await app(t, { prefix: 'feed:' })
  const socket = phoenix(t, url)
  const author = socket.channel('feed:author', { token: 'reader' })
  t.match(await join(author), { status: 'ok' })
  const event = next(author, 'change')
  await server.ws.publishChange({ model: 'author', method: 'PUT', id: 1 })
  t.match(await event, { method: 'PUT' })
  const other = Fastify()
  t.teardown(() => other.close())
  await other.register(pachinko)
  for (const changes of ['yes', null, { prefix: 3 }]) {
    t.throws(() => other.addWebSocketHub('/socket', { changes: changes as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"changes"/ })
  }
  t.doesNotThrow(() => other.addWebSocketHub('/off', { changes: false }))
  t.doesNotThrow(() => other.addWebSocketHub('/default', { changes: {} }), 'an empty object is the default prefix')
})
