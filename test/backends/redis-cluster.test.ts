import 'reflect-metadata'
import Fastify from 'fastify'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import pachinko, { WebSocketResource, redisBackend } from '../../lib/index.js'
import { connect } from '../../lib/testing/index.js'
import { untilAsync } from '../helpers/build.js'
import { needRedis, REDIS_URL, testPrefix } from '../helpers/redis.js'

class Member extends WebSocketResource {
  static convention = 'any' as const
  override async onConnect () {
    const { rooms } = this.request.query as { rooms?: string }
    for (const room of rooms?.split(',') ?? ['shared']) await this.join(room)
    this.send({ type: 'welcome', payload: this.connection.id })
  }

  async onShout (msg: { payload: string }) {
    await this.broadcast('shared', { type: 'shouted', payload: msg.payload })
  }
}

async function node (t: Test, prefix: string, options: Parameters<typeof redisBackend>[0] = {}) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko, { backend: redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 200, ...options }) })
  app.addWebSocketRoute('/m', Member)
  return app
}

t.test('fails register with a coded error naming the URL when Redis is down at boot', async (t) => {
  const app = Fastify()
  await t.rejects(async () => { await app.register(pachinko, { backend: redisBackend({ url: 'redis://user:secret@127.0.0.1:1/0' }) }) }, {
    code: 'FST_PACHINKO_BACKEND_CONNECT',
    message: /redis backend at redis:\/\/\*\*\*@127\.0\.0\.1:1\/0/
  })
  t.notMatch((await app.close().catch((e: Error) => e))?.toString() ?? '', /secret/)
})

t.test('with a client of yours: connects with two duplicates of it, publishes once per broadcast, quits only them', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('client')
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.disconnect())
  let publishes = 0
  const duplicates: Redis[] = []
  const duplicate = client.duplicate.bind(client)
  client.duplicate = ((...args: Parameters<typeof duplicate>) => {
    const copy = duplicate(...args)
    const publish = copy.publish.bind(copy)
    copy.publish = ((...a: Parameters<typeof publish>) => { publishes++; return publish(...a) }) as typeof publish
    duplicates.push(copy)
    return copy
  }) as typeof duplicate
  const app = Fastify()
  await app.register(pachinko, { backend: redisBackend({ client, prefix }) })
  app.addWebSocketRoute('/m', Member)
  t.equal(duplicates.length, 2, 'one to publish and store, one to subscribe')
  const other = await node(t, prefix)
  const here = await connect(app, '/m')
  await here.expect('welcome')
  const there = await connect(other, '/m')
  await there.expect('welcome')
  publishes = 0
  await app.ws.broadcastToRoom('shared', { type: 'news' })
  await there.expect('news')
  await here.expect('news')
  t.equal(publishes, 1, 'one PUBLISH for a broadcast reaching two nodes')
  const ended = Promise.all(duplicates.map(async (d) => await once(d, 'end')))
  await app.close()
  await ended
  t.pass('its duplicates are closed')
  t.equal(client.status, 'ready', 'the client passed in is still open')
  t.equal(await client.ping(), 'PONG')
})

t.test('subscribes a node only to the rooms it has local members in', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('subs')
  const [a, b] = [await node(t, prefix), await node(t, prefix)]
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.disconnect())
  const subscribers = async (room: string) => (await redis.call('PUBSUB', 'NUMSUB', `${prefix}:ch:room:${room}`) as [string, number])[1]
  const onA = await connect(a, '/m', { query: { rooms: 'only-a' } })
  await onA.expect('welcome')
  const both1 = await connect(a, '/m', { query: { rooms: 'both' } })
  const both2 = await connect(b, '/m', { query: { rooms: 'both' } })
  await both1.expect('welcome')
  await both2.expect('welcome')
  t.equal(await subscribers('only-a'), 1)
  t.equal(await subscribers('both'), 2)
  t.equal(await subscribers('nobody'), 0)
  await onA.close()
  await untilAsync(async () => await subscribers('only-a') === 0, 2000, 'unsubscribe after the last member left')
})

t.test('two separate Node processes share rooms; a killed node stops counting after its ttl', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('procs')
  const parent = await node(t, prefix)
  const child = fork(new URL('../fixtures/redis-node.ts', import.meta.url), { execArgv: process.execArgv, env: { ...process.env, PREFIX: prefix, REDIS_URL } })
  t.teardown(() => { child.kill('SIGKILL') })
  const { port, nodeId } = await new Promise<{ port: number, nodeId: string }>((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)))
  })
  t.not(nodeId, parent.ws.nodeId)
  const remote = new WebSocket(`ws://127.0.0.1:${port}/m`)
  const remoteFrames: Array<{ type: string, payload: unknown }> = []
  remote.on('message', (data) => remoteFrames.push(JSON.parse(data.toString())))
  await new Promise((resolve) => remote.on('open', resolve))
  t.teardown(() => remote.terminate())
  await untilAsync(async () => remoteFrames.some((f) => f.type === 'welcome'))
  const remoteId = remoteFrames.find((f) => f.type === 'welcome')!.payload as string
  const local = await connect(parent, '/m')
  await local.expect('welcome')

  local.send({ type: 'shout', payload: 'from the parent' })
  await untilAsync(async () => remoteFrames.some((f) => f.type === 'shouted'), 2000, 'the child process got it')
  remote.send(JSON.stringify({ type: 'shout', payload: 'from the child' }))
  const heard = [await local.expect('shouted'), await local.expect('shouted')].map((f) => f.payload)
  t.same(heard.sort(), ['from the child', 'from the parent'])
  t.equal(await parent.ws.roomSize('shared'), 2)
  await parent.ws.sendTo(remoteId, { type: 'direct' })
  await untilAsync(async () => remoteFrames.some((f) => f.type === 'direct'))

  child.kill('SIGKILL')
  await untilAsync(async () => await parent.ws.roomSize('shared') === 1, 3000, 'the dead node to expire')
  t.equal(await parent.ws.count(), 1)
  await t.rejects(parent.ws.sendTo(remoteId, { type: 'x' }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
})

t.test('needs a url or a client', async (t) => {
  t.throws(() => redisBackend({} as never), { code: 'FST_PACHINKO_OPTION_INVALID', message: /\{ url \} or \{ client \}/ })
  t.throws(() => redisBackend(undefined as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
})
