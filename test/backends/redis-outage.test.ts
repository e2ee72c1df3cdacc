import 'reflect-metadata'
import Fastify from 'fastify'
import t from 'tap'
import pachinko, { WebSocketResource, redisBackend } from '../../lib/index.js'
import { connect } from '../../lib/testing/index.js'
import { build, untilAsync } from '../helpers/build.js'
import { OwnRedis } from '../helpers/redis-server.js'

// a safety net, not a pace: frames arrive in milliseconds, but a loaded machine can stall a Redis restart for seconds
const PATIENCE_MS = 10_000

class Member extends WebSocketResource {
  static convention = 'any' as const
  override async onConnect () {
    const { room } = this.request.query as { room: string }
    await this.join(room)
    this.send({ type: 'welcome', payload: this.connection.id })
  }

  async onSay (msg: { payload: { room: string, n: number } }) {
    try {
      await this.broadcast(msg.payload.room, { type: 'said', payload: msg.payload.n })
    } catch (err) {
      this.send({ type: 'broadcast-failed', payload: (err as { code: string }).code })
    }
  }
}

t.test('survives Redis dying and coming back: local delivery goes on, cross-node resumes by itself', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })

  const redis = await OwnRedis.start()
  t.teardown(() => redis.kill())
  const a = await build(t, { backend: redisBackend({ url: redis.url, heartbeatMs: 100 }) })
  const b = await build(t, { backend: redisBackend({ url: redis.url, heartbeatMs: 100 }) })
  for (const app of [a, b]) app.addWebSocketRoute('/m', Member)
  const a1 = await connect(a, '/m', { query: { room: 'r' }, timeout: PATIENCE_MS })
  const a2 = await connect(a, '/m', { query: { room: 'r' }, timeout: PATIENCE_MS })
  const b1 = await connect(b, '/m', { query: { room: 'r' }, timeout: PATIENCE_MS })
  for (const c of [a1, a2, b1]) await c.expect('welcome')
  a1.send({ type: 'say', payload: { room: 'r', n: 1 } })
  t.equal((await b1.expect('said')).payload, 1, 'across nodes before the outage')
  for (const c of [a1, a2]) t.equal((await c.expect('said')).payload, 1)

  await redis.kill()
  await untilAsync(async () => a.logs.some((l) => /connection lost/.test(l.msg)), 5000, 'the outage to be noticed')
  a1.send({ type: 'say', payload: { room: 'r', n: 2 } })
  t.equal((await a2.expect('said')).payload, 2, 'local delivery keeps working')
  t.equal((await a1.expect('said')).payload, 2)
  t.equal((await a1.expect('broadcast-failed')).payload, 'FST_PACHINKO_BACKEND_UNAVAILABLE', 'the cross-node part rejects with a coded error')
  await t.rejects(a.ws.roomSize('r'), { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
  const joinedDuringOutage = await connect(b, '/m', { query: { room: 'late' }, timeout: PATIENCE_MS })
  await joinedDuringOutage.expect('welcome')
  await b.ws.identify([...b.ws.local()].at(-1)!, 'late-user')

  await redis.start()
  await untilAsync(async () => a.logs.some((l) => /resubscribed/.test(l.msg)) && b.logs.some((l) => /resubscribed/.test(l.msg)), 10000, 'both nodes to resync')
  t.ok(a.logs.some((l) => l.level === 30 && /reconnected/.test(l.msg)), 'a log line says it reconnected')
  a1.send({ type: 'say', payload: { room: 'r', n: 3 } })
  t.equal((await b1.expect('said')).payload, 3, 'across nodes again')
  t.equal((await a2.expect('said')).payload, 3)
  t.equal((await a1.expect('said')).payload, 3)
  await a.ws.broadcastToRoom('late', { type: 'said', payload: 4 })
  t.equal((await joinedDuringOutage.expect('said')).payload, 4, 'a room joined during the outage was subscribed on reconnect')
  t.equal(await a.ws.roomSize('r'), 3, 'membership was republished')
  t.equal(await a.ws.count(), 4)
  await a.ws.sendToUser('late-user', { type: 'said', payload: 5 })
  t.equal((await joinedDuringOutage.expect('said')).payload, 5, 'users identified during the outage are republished too')
  t.same(unhandled, [], 'no unhandled rejection')
  const b1Said = b1.trace.filter((e) => e.direction === 'in' && (e.data as { type: string }).type === 'said').map((e) => (e.data as { payload: number }).payload)
  t.same(b1Said, [1, 3], 'nothing from the outage leaked in late or twice')
})

t.test('closes cleanly while Redis is down', async (t) => {
  const redis = await OwnRedis.start()
  const app = Fastify()
  await app.register(pachinko, { backend: redisBackend({ url: redis.url }) })
  await redis.kill()
  await app.close()
  t.pass('closed')
})
