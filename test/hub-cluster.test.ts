import 'reflect-metadata'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import pachinko, { Channel, handlesEvent, redisBackend, type Backend, type WebSocketHub } from '../lib/index.js'
import { createBus } from '../lib/testing/index.js'
import { untilAsync } from './helpers/build.js'
import { join, listen, next, phoenix, push } from './helpers/phoenix.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'

/* Two nodes, the official client on each: the hub's topics span the cluster with no extra code. */

class Room extends Channel<{ id: string }> {
  @handlesEvent('shout')
  async shout (payload: Record<string, unknown>) {
    await this.broadcast('shout', payload)
    return {}
  }

  @handlesEvent('typing')
  async typing () {
    await this.broadcastFrom('typing', { from: this.connection.id })
    return {}
  }
}

async function node (t: Test, backend: Backend): Promise<{ app: FastifyInstance, hub: WebSocketHub, url: string }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko, { backend })
  const hub = app.addWebSocketHub('/socket')
  hub.channel('room:{id}', Room)
  return { app, hub, url: await listen(app) }
}

function suite (name: string, backends: (t: Test) => Promise<{ pair: [Backend, Backend], published?: () => number } | undefined>): void {
  t.test(`${name}: broadcasts on a topic reach its subscribers on both nodes, in order, and broadcastFrom skips only the sender`, async (t) => {
    const made = await backends(t)
    if (made === undefined) return
    const [a, b] = [await node(t, made.pair[0]), await node(t, made.pair[1])]
    const alice = phoenix(t, a.url).channel('room:1')
    const bob = phoenix(t, b.url).channel('room:1')
    await join(alice)
    await join(bob)
    await untilAsync(async () => await a.app.ws.roomSize('\u0000hub\u0000/socket\u0000room:1') === 2, 3000, 'both subscriptions to be seen cluster-wide')

    const toBob = next(bob, 'shout')
    t.same(await push(alice, 'shout', { n: 0 }), { status: 'ok', response: {} })
    t.same(await toBob, { n: 0 })

    const before = made.published?.()
    const received: number[] = []
    const all = new Promise<void>((resolve) => bob.on('seq', (payload: { i: number }) => { if (received.push(payload.i) === 50) resolve() }))
    for (let i = 0; i < 50; i++) await a.hub.broadcast('room:1', 'seq', { i })
    await all
    t.same(received, [...Array(50).keys()], 'order kept per topic per publisher')
    if (before !== undefined) {
      await untilAsync(async () => (made.published as () => number)() - before >= 50, 3000, 'the publishes to be counted')
      t.equal((made.published as () => number)() - before, 50, 'one PUBLISH per broadcast')
    }

    let aliceTyping = 0
    alice.on('typing', () => { aliceTyping++ })
    const bobTyping = next(bob, 'typing')
    await push(alice, 'typing')
    t.ok((await bobTyping).from)
    const last = next(alice, 'shout')
    await push(bob, 'shout', { n: 'last' })
    t.same(await last, { n: 'last' })
    t.equal(aliceTyping, 0)
  })
}

suite('bus', async () => {
  const bus = createBus()
  return { pair: [bus.backend({ heartbeatMs: 100 }), bus.backend({ heartbeatMs: 100 })] }
})

suite('redis', async (t) => {
  if (!await needRedis(t)) return undefined
  const prefix = testPrefix('hub')
  const watcher = new Redis(REDIS_URL)
  t.teardown(() => watcher.disconnect())
  let count = 0
  await watcher.psubscribe(`${prefix}*`)
  watcher.on('pmessage', (_pattern, channel: string) => { if (channel.includes('room:1')) count++ })
  return { pair: [redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 200 }), redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 200 })], published: () => count }
})
