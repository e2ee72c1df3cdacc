import 'reflect-metadata'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import pachinko, { WebSocketResource, redisBackend, type Backend } from '../lib/index.js'
import { createBus } from '../lib/testing/index.js'
import { connect } from '../lib/testing/index.js'
import { untilAsync } from './helpers/build.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'

/*
 * A server → client request to a connection on another node resolves on the
 * node that asked, the same over the in-process bus and over real Redis.
 */

class Member extends WebSocketResource {
  override onConnect () {
    this.send({ type: 'welcome', payload: this.connection.id })
  }
}

interface Question { type: 'question', ref: number, payload: unknown }

async function node (t: Test, backend: Backend): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko, { backend })
  app.addWebSocketRoute('/m', Member)
  await app.ready()
  return app
}

function suite (name: string, backends: (t: Test) => Promise<[Backend, Backend] | undefined>): void {
  t.test(`${name}: a request to a connection on another node resolves on the asking node`, async (t) => {
    const pair = await backends(t)
    if (pair === undefined) return
    const [asker, home] = [await node(t, pair[0]), await node(t, pair[1])]
    const client = await connect(home, '/m')
    const id = (await client.expect<{ payload: string }>('welcome')).payload
    await untilAsync(async () => await asker.ws.count() === 1, 3000, 'the connection to be published')

    const asking = asker.ws.request(id, { type: 'question', payload: { text: 'still there?' } }, { timeoutMs: 3000 })
    const question = await client.expect<Question>('question')
    t.same(question.payload, { text: 'still there?' })
    client.send({ type: 'reply', ref: question.ref, payload: { yes: true } })
    t.same(await asking, { yes: true })

    const acked = asker.ws.request(id, { type: 'question' })
    client.send({ type: 'reply', ref: (await client.expect<Question>('question')).ref })
    t.equal(await acked, undefined, 'a reply without payload resolves with undefined, as locally')

    const refused = asker.ws.request(id, { type: 'question' })
    client.send({ type: 'error', ref: (await client.expect<Question>('question')).ref, error: { code: 'DECLINED', message: 'no' } })
    await t.rejects(refused, { code: 'FST_PACHINKO_REQUEST_FAILED', clientError: { code: 'DECLINED', message: 'no' } })

    await t.rejects(asker.ws.request(id, { type: 'question' }, { timeoutMs: 100 }), { code: 'FST_PACHINKO_REQUEST_TIMEOUT', message: /within 100 ms/ }, 'the home node\'s timeout is the one heard')
    await client.expect('question')

    const closing = asker.ws.request(id, { type: 'question' }, { timeoutMs: 3000 })
    await client.expect('question')
    await client.close()
    await t.rejects(closing, { code: 'FST_PACHINKO_REQUEST_CLOSED' }, 'the close on the home node ends the request at once')
    await untilAsync(async () => await asker.ws.count() === 0, 3000, 'the connection to be gone')
    await t.rejects(asker.ws.request(id, { type: 'question' }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
    const elsewhere = `${home.ws.nodeId}.nobody`
    await t.rejects(asker.ws.request(elsewhere, { type: 'question' }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
    await t.rejects(asker.ws.request(`${asker.ws.nodeId}.nobody`, { type: 'question' }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' }, 'an id of this node that is gone')
  })

  t.test(`${name}: the connection's node answers not-found when the connection left after the check`, async (t) => {
    const pair = await backends(t)
    if (pair === undefined) return
    const [asker, home] = [await node(t, pair[0]), await node(t, pair[1])]
    const client = await connect(home, '/m')
    const id = (await client.expect<{ payload: string }>('welcome')).payload
    await untilAsync(async () => await asker.ws.count() === 1, 3000, 'the connection to be published')
    // gone from the home node's memory, still in what it published: its node channel is reached and says not found
    home.ws.get(id)?.terminate()
    ;(home.ws as unknown as { registry: Map<string, unknown> }).registry.delete(id)
    await t.rejects(asker.ws.request(id, { type: 'question' }, { timeoutMs: 3000 }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
  })
}

suite('bus', async () => {
  const bus = createBus()
  return [bus.backend({ heartbeatMs: 100 }), bus.backend({ heartbeatMs: 100 })]
})

suite('redis', async (t) => {
  if (!await needRedis(t)) return undefined
  const prefix = testPrefix('request')
  return [redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 200 }), redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 200 })]
})

t.test('a cross-node request fails fast with a coded error while the bus is down', async (t) => {
  const bus = createBus()
  const [asker, home] = [await node(t, bus.backend({ heartbeatMs: 100 })), await node(t, bus.backend({ heartbeatMs: 100 }))]
  const client = await connect(home, '/m')
  const id = (await client.expect<{ payload: string }>('welcome')).payload
  await untilAsync(async () => await asker.ws.count() === 1, 3000, 'the connection to be published')
  bus.outage()
  await t.rejects(asker.ws.request(id, { type: 'question' }, { timeoutMs: 3000 }), { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
  bus.restore()
})

t.test('redis: malformed requests and answers on a node channel are refused without harm', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('request-hostile')
  const [asker, home] = [await node(t, redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 200 })), await node(t, redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 200 }))]
  const client = await connect(home, '/m')
  const id = (await client.expect<{ payload: string }>('welcome')).payload
  await untilAsync(async () => await asker.ws.count() === 1, 3000, 'the connection to be published')
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.disconnect())
  const channel = (nodeId: string): string => `${prefix}:ch:node:${nodeId}`
  const envelope = (header: object, frame = ''): Buffer => Buffer.from(`${JSON.stringify(header)}\n${frame}`)

  // a request whose message is not JSON: the home node answers with a failure instead of throwing
  const listener = new Redis(REDIS_URL)
  t.teardown(() => listener.disconnect())
  await listener.subscribe(channel('fake-asker'))
  const answered = new Promise<string>((resolve) => listener.on('message', (_c: string, message: string) => resolve(message)))
  await redis.publish(channel(home.ws.nodeId), envelope({ n: 'fake-asker', op: 'request', id, q: '1', t: 1000 }, '{not json'))
  t.match(JSON.parse((await answered).split('\n')[0]), { op: 'answer', q: '1', e: 'FST_PACHINKO_REQUEST_FAILED' })

  // answers that are not JSON, or carry an error code of another kind, reject the waiting request with a coded error
  const first = asker.ws.request(id, { type: 'question' }, { timeoutMs: 3000 })
  await client.expect('question')
  await redis.publish(channel(asker.ws.nodeId), envelope({ n: home.ws.nodeId, op: 'answer', q: '1' }, '{not json'))
  await t.rejects(first, { code: 'FST_PACHINKO_REQUEST_FAILED', message: /BAD_ANSWER/ })
  const second = asker.ws.request(id, { type: 'question' }, { timeoutMs: 3000 })
  await client.expect('question')
  await redis.publish(channel(asker.ws.nodeId), envelope({ n: home.ws.nodeId, op: 'answer', q: '2', e: 'FST_PACHINKO_SEND_DROPPED' }))
  await t.rejects(second, { code: 'FST_PACHINKO_REQUEST_FAILED', message: /FST_PACHINKO_SEND_DROPPED/ })
  await redis.publish(channel(asker.ws.nodeId), envelope({ n: home.ws.nodeId, op: 'answer', q: '999' }, '"nobody waits"'))
  await redis.publish(channel(asker.ws.nodeId), envelope({ n: home.ws.nodeId, op: 'answer' }))

  const third = asker.ws.request(id, { type: 'question' }, { timeoutMs: 3000 })
  client.send({ type: 'reply', ref: (await client.expect<Question>('question')).ref, payload: 'fine' })
  t.equal(await third, 'fine', 'both nodes carry on')
})

t.test('an answer the connection\'s node cannot publish (the bus went down) leaves the asker to time out, and is logged at debug', async (t) => {
  const bus = createBus()
  const [asker, home] = [await node(t, bus.backend({ heartbeatMs: 100 })), await node(t, bus.backend({ heartbeatMs: 100 }))]
  const client = await connect(home, '/m')
  const id = (await client.expect<{ payload: string }>('welcome')).payload
  await untilAsync(async () => await asker.ws.count() === 1, 3000, 'the connection to be published')
  const asking = asker.ws.request(id, { type: 'question' }, { timeoutMs: 50 })
  const question = await client.expect<Question>('question')
  bus.outage()
  client.send({ type: 'reply', ref: question.ref, payload: 'lost' })
  await t.rejects(asking, { code: 'FST_PACHINKO_REQUEST_TIMEOUT' })
  bus.restore()
})
