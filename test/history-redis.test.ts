import 'reflect-metadata'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import pachinko, { redisBackend, WebSocketResource, type StreamPosition } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { kBackend } from '../lib/symbols.js'
import { record, type RecordedFrame as Frame } from './helpers/record.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'

type Joined = { type: 'joined', payload: { recovered: boolean, position: StreamPosition, replayed: number } }

class Chat extends WebSocketResource<{ room: string }> {
  override async onConnect () {
    const query = this.request.query as { offset?: string, epoch?: string }
    const since = query.epoch === undefined ? null : { offset: Number(query.offset), epoch: query.epoch }
    this.send({ type: 'joined', payload: await this.join(`chat:${this.params.room}`, { since }) })
  }
}

/** A node of the cluster: a Fastify app over the test's Redis prefix, keeping 100 messages per chat room. */
async function node (t: Test, prefix: string, size = 100) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko, { backend: redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 200 }) })
  app.ws.keepHistory('chat:*', { size, ttlMs: 60_000 })
  app.addWebSocketRoute('/chat/:room', Chat)
  return app
}

t.test('real Redis: a client cut off while 50 messages are broadcast reconnects to the other node, after the first died, and gets all 50 in order', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('history')
  const a = await node(t, prefix)
  const b = await node(t, prefix)
  const onA = await connect(a, '/chat/1')
  const onB = await connect(b, '/chat/1')
  const live = record(onB)
  const fresh = await onA.expect<Joined>('joined')
  await onB.expect('joined')
  t.same(fresh.payload, { recovered: false, position: { offset: 0, epoch: fresh.payload.position.epoch }, replayed: 0 })

  await a.ws.broadcastToRoom('chat:1', { type: 'news', payload: 0 })
  const seen = await onA.expect<Frame>('news')
  t.same(seen, { type: 'news', payload: 0, offset: 1, epoch: fresh.payload.position.epoch })
  t.same(await live.until((f) => f.type === 'news'), seen, 'the other node\'s member got the same frame, offset included')
  await onA.close()
  for (let i = 1; i <= 50; i++) await (i % 2 === 0 ? a : b).ws.broadcastToRoom('chat:1', { type: 'news', payload: i })
  await live.until((f) => f.payload === 50)
  t.same(live.filter((f) => f.type === 'news').map((f) => f.offset), Array.from({ length: 51 }, (_, i) => i + 1), 'offsets count up across both nodes')
  await a.close()

  const back = await connect(b, '/chat/1', { query: { offset: seen.offset!, epoch: seen.epoch! } })
  const frames = record(back)
  const joined = await back.expect<Joined>('joined')
  t.same(joined.payload, { recovered: true, position: { offset: 51, epoch: seen.epoch }, replayed: 50 })
  const missed = frames.filter((f) => f.type === 'news')
  t.same(missed.map((f) => f.payload), Array.from({ length: 50 }, (_, i) => i + 1), 'all 50, in order, before the join answer')
  t.same(missed.map((f) => f.offset), Array.from({ length: 50 }, (_, i) => i + 2))
  await b.ws.broadcastToRoom('chat:1', { type: 'news', payload: 51 })
  t.match(await frames.until((f) => f.payload === 51), { offset: 52 }, 'then the live ones')
})

t.test('real Redis: after a history overflow the client gets recovered: false; a lost stream changes the epoch', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('history-overflow')
  const a = await node(t, prefix, 10)
  const b = await node(t, prefix, 10)
  const first = await connect(a, '/chat/2')
  const { payload } = await first.expect<Joined>('joined')
  await first.close()
  for (let i = 0; i < 30; i++) await a.ws.broadcastToRoom('chat:2', { type: 'news', payload: i })
  const late = await connect(b, '/chat/2', { query: { ...payload.position } })
  const frames = record(late)
  t.same((await late.expect<Joined>('joined')).payload, { recovered: false, position: { offset: 30, epoch: payload.position.epoch }, replayed: 0 })
  t.equal(frames.filter((f) => f.type === 'news').length, 0, 'nothing replayed')
  const recent = await connect(b, '/chat/2', { query: { offset: 20, epoch: payload.position.epoch } })
  t.match(await recent.expect('joined'), { payload: { recovered: true, replayed: 10 } }, 'the last size are there')

  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.disconnect())
  t.ok(await redis.xlen(`${prefix}:hs:chat:2`) >= 10, 'the history is a stream in Redis')
  await redis.del(`${prefix}:hs:chat:2`)
  const after = await connect(a, '/chat/2', { query: { offset: 30, epoch: payload.position.epoch } })
  const lost = (await after.expect<Joined>('joined')).payload
  t.equal(lost.recovered, false, 'the stream was lost: nothing can be recovered')
  t.not(lost.position.epoch, payload.position.epoch, 'and the epoch changed')
  t.equal(lost.position.offset, 0)
  await a.ws.broadcastToRoom('chat:2', { type: 'news', payload: 'new' })
  t.match(await record(after).until((f) => f.payload === 'new'), { offset: 1, epoch: lost.position.epoch })
  await redis.del(`${prefix}:hm:chat:2`)
  await a.ws.broadcastToRoom('chat:2', { type: 'news', payload: 'again' })
  const recovery = await a.ws.joinRoom([...a.ws.local()][0], 'chat:2', { since: { offset: 1, epoch: lost.position.epoch } })
  t.equal(recovery.recovered, false, 'losing the epoch also starts a new one')
  t.not(recovery.position.epoch, lost.position.epoch)
  t.equal(recovery.position.offset, 1)
})

t.test('real Redis: broadcasts from both nodes racing with a recovery are neither lost nor doubled', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('history-race')
  const a = await node(t, prefix, 1000)
  const b = await node(t, prefix, 1000)
  const first = await connect(a, '/chat/3')
  const { payload } = await first.expect<Joined>('joined')
  await first.close()
  for (let i = 1; i <= 20; i++) await a.ws.broadcastToRoom('chat:3', { type: 'news', payload: i })
  const sending = (async () => {
    for (let i = 21; i <= 120; i++) {
      await (i % 2 === 0 ? a : b).ws.broadcastToRoom('chat:3', { type: 'news', payload: i })
      // broadcasts to everyone pass the recovering connection by: they are not the room's
      if (i % 10 === 0) await (i % 20 === 0 ? a : b).ws.broadcastToAll({ type: 'ping' })
    }
  })()
  const back = await connect(b, '/chat/3', { query: { ...payload.position } })
  const frames = record(back)
  await sending
  await a.ws.broadcastToRoom('chat:3', { type: 'news', payload: 'end' })
  await frames.until((f) => f.payload === 'end')
  const news = frames.filter((f) => f.type === 'news')
  t.same(news.map((f) => f.payload).slice(0, -1), Array.from({ length: 120 }, (_, i) => i + 1), 'every message once, in order')
  t.same(news.map((f) => f.offset), Array.from({ length: 121 }, (_, i) => i + 1))
})

t.test('real Redis: with Redis gone, a broadcast to a room with history and a recovery reject with a coded error', async (t) => {
  if (!await needRedis(t)) return
  const a = await node(t, testPrefix('history-down'))
  const client = await connect(a, '/chat/4')
  await client.expect('joined')
  const connection = [...a.ws.local()][0]
  // the transport's own clients: cut them, as an outage would
  const transport = (a.ws[kBackend] as unknown as { transport: { pub: { disconnect: () => void } } }).transport
  transport.pub.disconnect()
  await t.rejects(a.ws.broadcastToRoom('chat:4', { type: 'news' }), { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
  await t.rejects(a.ws.joinRoom(connection, 'chat:4', { since: null }), { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
})
