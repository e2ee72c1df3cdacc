import Fastify from 'fastify'
import { register } from 'node:module'
import { createServer } from 'node:net'
import t from 'tap'
import pachinko, { redisBackend } from '../../lib/index.js'
import { connect } from '../../lib/testing/index.js'

// from here on this process cannot resolve ioredis; nothing in it imported ioredis before (the library does not, until a Redis backend starts)
register('../fixtures/hide-ioredis.mjs', import.meta.url)

t.test('without ioredis installed, a Redis backend fails register with a coded error saying what to install', async (t) => {
  let connections = 0
  const server = createServer((socket) => { connections++; socket.destroy() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const app = Fastify()
  const backend = redisBackend({ url: `redis://127.0.0.1:${(server.address() as { port: number }).port}` })
  await t.rejects(async () => { await app.register(pachinko, { backend }) }, {
    code: 'FST_PACHINKO_BACKEND_DEPENDENCY_MISSING',
    message: /redis backend needs the package "ioredis", which cannot be loaded \(Cannot find package 'ioredis'.*npm install ioredis$/
  })
  await app.close().catch(() => {})
  t.equal(connections, 0, 'nothing connected')
})

t.test('without ioredis installed, everything but the Redis backend works', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko)
  app.addWebSocketRoute('/ws', class extends (await import('../../lib/index.js')).WebSocketResource {
    static convention = 'any' as const
    async onPing () { this.send({ type: 'pong' }) }
  })
  const client = await connect(app, '/ws')
  client.send({ type: 'ping' })
  await client.expect('pong')
  await client.close()
})
