import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { CloseCode, redisBackend } from '../../lib/index.js'
import { buildChatApp } from '../../example/chat/app.js'
import { connect, UpgradeRefusedError } from '../../lib/testing/index.js'
import { needRedis, REDIS_URL, testPrefix } from '../helpers/redis.js'

/*
 * The chat example on two servers over real Redis: a revoked user is closed on
 * both and cannot come back. The chat names its user in onConnect, so a
 * reconnect opens and is refused there (REVOKED, 4403); given the plugin's
 * `identify`, the same reconnect is refused before the upgrade (HTTP 403).
 */
t.test('a revoked user is closed on both chat servers and cannot reconnect; others stay', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('chat-revoke')
  const servers = []
  for (let i = 0; i < 2; i++) {
    const app = await buildChatApp({ pachinko: { backend: redisBackend({ url: REDIS_URL, prefix }) } })
    t.teardown(() => app.close())
    servers.push(app)
  }
  const [a, b] = servers
  const annA = await connect(a, '/ws/chat/general', { query: { user: 'ann' } })
  await annA.expect('systemMessage')
  const annB = await connect(b, '/ws/chat/random', { query: { user: 'ann' } })
  await annB.expect('systemMessage')
  const bob = await connect(b, '/ws/chat/general', { query: { user: 'bob' } })
  await bob.expect('systemMessage')
  t.equal(await a.ws.revoke({ user: 'ann' }, { forMs: 60_000, reason: 'account suspended' }), 2)
  t.same(await annA.closed, { code: CloseCode.REVOKED, reason: 'account suspended' })
  t.same(await annB.closed, { code: 4403, reason: 'account suspended' })
  t.same((await bob.expect('userLeft')).payload, { user: 'ann' }, 'the room hears she left')
  for (const server of servers) {
    const again = await connect(server, '/ws/chat/general', { query: { user: 'ann' } })
    t.match(await again.expect('error'), { error: { code: 'REVOKED' } })
    t.equal((await again.closed).code, 4403)
  }
  bob.send({ type: 'sendMessage', payload: { text: 'still here' } })
  t.match((await bob.expect('newMessage')).payload, { user: 'bob', text: 'still here' })
  t.equal(bob.trace.filter((e) => e.direction === 'in' && (e.data as { type: string }).type === 'userJoined').length, 0, 'her refused reconnects were never announced')
})

t.test('with identify, the revoked user’s reconnect is refused before the upgrade on the other server', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('chat-revoke-identify')
  const servers = []
  for (let i = 0; i < 2; i++) {
    const identify = (request: FastifyRequest): string | undefined => (request.query as { user?: string }).user
    const app = await buildChatApp({ pachinko: { backend: redisBackend({ url: REDIS_URL, prefix }), identify } })
    t.teardown(() => app.close())
    servers.push(app)
  }
  const ann = await connect(servers[1], '/ws/chat/general', { query: { user: 'ann' } })
  await ann.expect('systemMessage')
  await servers[0].ws.revoke({ user: 'ann' }, { forMs: 60_000 })
  t.equal((await ann.closed).code, 4403)
  await t.rejects(connect(servers[1], '/ws/chat/general', { query: { user: 'ann' } }), new UpgradeRefusedError(403))
  await t.rejects(connect(servers[0], '/ws/chat/general', { query: { user: 'ann' } }), new UpgradeRefusedError(403))
})
