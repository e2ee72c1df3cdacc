import 'reflect-metadata'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { WebSocketResource } from '../../lib/index.js'
import { createBus } from '../../lib/testing/index.js'
import { connect } from '../../lib/testing/index.js'
import { build, until } from '../helpers/build.js'
import { closeClient, inBatches, openClient, portOf, settledHeap, watchProcess } from './fixtures/helpers.js'

/*
 * Thousands of connections come and go, each joining rooms, identifying as a
 * user and carrying a label; afterwards nothing of them is left: no
 * connection, no room, no user, no listener on a long-lived emitter, no
 * object (every resource and server-side connection is garbage-collected).
 */

const CYCLES = 2500 // 2,000 in-process, 500 over TCP
const TCP_CYCLES = 500
const WIDTH = 250 // connections open at once
const ROOMS = 20
const BUS_CYCLES = 600

interface Tracked { resources: Array<WeakRef<object>>, connections: Array<WeakRef<object>>, listeners: Set<string>, connects: number, disconnects: number }

function tracker (): Tracked {
  return { resources: [], connections: [], listeners: new Set(), connects: 0, disconnects: 0 }
}

/** A resource class that records itself in `tracked`. */
function churner (tracked: Tracked) {
  return class Churner extends WebSocketResource {
    static convention = 'any' as const
    override async onConnect () {
      tracked.connects++
      tracked.resources.push(new WeakRef(this))
      tracked.connections.push(new WeakRef(this.connection))
      const { n } = this.request.query as { n: string }
      await this.join('lobby')
      await this.join(`room-${Number(n) % ROOMS}`)
      await this.join(`solo-${this.connection.id}`)
      await this.identify(`user-${Number(n) % 100}`)
      await this.ws.label(this.connection, 'churn')
      const socket = this.connection.socket
      tracked.listeners.add(['message', 'close', 'error'].map((event) => `${event}:${socket.listenerCount(event)}`).join(' '))
      this.send({ type: 'welcome', payload: this.connection.id })
    }

    onPing () { this.send({ type: 'pong' }) }

    override async onDisconnect () {
      tracked.disconnects++
    }
  }
}

/** Listener counts of every emitter that lives as long as the app. */
function longLivedListeners (app: FastifyInstance): Record<string, number> {
  const counts: Record<string, number> = {}
  const emitters: Array<[string, NodeJS.EventEmitter]> = [['server', app.server], ['wss', app.websocketServer], ['process', process]]
  for (const [name, emitter] of emitters) {
    for (const event of emitter.eventNames()) counts[`${name}:${String(event)}`] = emitter.listenerCount(event)
  }
  return counts
}

/** Asserts that `app` holds nothing of the connections that came and went. */
async function assertEmpty (t: Test, app: FastifyInstance, label: string): Promise<void> {
  await until(() => app.ws.size === 0, 10_000, `${label}: every connection to be released`)
  t.equal(app.ws.size, 0, `${label}: no connection left`)
  t.equal([...app.ws.local()].length, 0, `${label}: the manager lists none`)
  t.equal(await app.ws.count(), 0, `${label}: the backend counts none`)
  t.same(await app.ws.roomsByPrefix(''), [], `${label}: the backend holds no room`)
  t.equal(await app.ws.roomSize('lobby'), 0, `${label}: the lobby is empty`)
  t.equal(app.ws.snapshot().rooms, 0, `${label}: the snapshot counts no room`)
  for (const filter of [{}, { room: 'lobby' }, { user: 'user-1' }, { label: 'churn' }]) {
    const first = await app.ws.connections(filter)[Symbol.asyncIterator]().next()
    t.equal(first.done, true, `${label}: no connection reference for ${JSON.stringify(filter)}`)
  }
}

t.test(`${CYCLES} connect/disconnect cycles with rooms, users and labels leave nothing behind`, async (t) => {
  const faults = watchProcess(t)
  const tracked = tracker()
  const app = await build(t)
  app.addWebSocketRoute('/churn', churner(tracked))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = portOf(app)

  // warm up (JIT, pools, loggers) before the baseline
  await inBatches(100, 50, async (i) => { await (await connect(app, '/churn', { query: { n: i } })).close() })
  await until(() => app.ws.size === 0)
  const listenersBefore = longLivedListeners(app)
  app.logs.length = 0 // the captured log lines are the test's, not the app's
  const heapBefore = await settledHeap()
  tracked.resources.length = 0
  tracked.connections.length = 0
  const warmup = tracked.connects
  const started = Date.now()

  // in-process: every 5th is closed by the server, the rest by the client; each exchanges a message first
  const serverCodes: number[] = []
  await inBatches(CYCLES - TCP_CYCLES, WIDTH, async (i) => {
    const client = await connect(app, '/churn', { query: { n: i } })
    const { payload: id } = await client.expect<{ payload: string }>('welcome')
    client.send({ type: 'ping' })
    await client.expect('pong')
    if (i % 5 === 0) {
      await app.ws.disconnect(id, 4000, 'churned')
      serverCodes.push((await client.closed).code)
    } else {
      await client.close()
    }
  })
  // over TCP: every 4th client vanishes without a closing handshake
  let terminated = 0
  await inBatches(TCP_CYCLES, WIDTH, async (i) => {
    const { socket } = await openClient(port, `/churn?n=${i}`)
    if (i % 4 === 0) {
      socket.terminate()
      terminated++
    } else {
      await closeClient(socket, 1000)
    }
  })
  await assertEmpty(t, app, 'memory backend')
  const seconds = (Date.now() - started) / 1000

  t.equal(tracked.connects - warmup, CYCLES, `${CYCLES} connections were made`)
  t.equal(tracked.disconnects, tracked.connects, 'every one of them ran onDisconnect')
  t.same(serverCodes, new Array((CYCLES - TCP_CYCLES) / 5).fill(4000), 'the server-closed ones saw the server\'s code')
  t.equal(terminated, TCP_CYCLES / 4)
  t.equal(app.ws.metrics.connectionsClosed, app.ws.metrics.connectionsOpened, 'metrics: as many closed as opened')
  t.equal(tracked.listeners.size, 1, `every server-side socket had the same listeners while open (${[...tracked.listeners].join()}): none added per room, user or label`)
  t.same(longLivedListeners(app), listenersBefore, 'no listener left on the HTTP server, the WebSocket server or the process')
  app.logs.length = 0
  const heapAfter = await settledHeap()
  const resources = tracked.resources.filter((ref) => ref.deref() !== undefined).length
  const connections = tracked.connections.filter((ref) => ref.deref() !== undefined).length
  t.equal(resources, 0, `all ${tracked.resources.length} resources were garbage-collected`)
  t.equal(connections, 0, `all ${tracked.connections.length} server-side connections were garbage-collected`)
  t.ok(heapAfter - heapBefore < 16 * 1024 * 1024, `heap back near its baseline (${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB over it)`)
  t.same(faults, [], 'no uncaught exception or unhandled rejection')
  t.comment(`${CYCLES} cycles (${CYCLES - TCP_CYCLES} in-process, ${TCP_CYCLES} over TCP, ${WIDTH} at a time) in ${seconds.toFixed(1)} s`)
})

t.test(`${BUS_CYCLES} cycles spread over a two-node cluster leave no room, user or connection in the cluster's view`, async (t) => {
  const faults = watchProcess(t)
  const bus = createBus()
  const tracked = tracker()
  const nodes = [await build(t, { backend: bus.backend({ heartbeatMs: 50 }) }), await build(t, { backend: bus.backend({ heartbeatMs: 50 }) })]
  for (const node of nodes) node.addWebSocketRoute('/churn', churner(tracked))
  const started = Date.now()
  await inBatches(BUS_CYCLES, 100, async (i) => {
    const home = nodes[i % 2]
    const client = await connect(home, '/churn', { query: { n: i } })
    await client.expect<{ payload: string }>('welcome')
    // the other node sees this connection's room through the cluster
    await nodes[(i + 1) % 2].ws.broadcastToRoom(`room-${i % ROOMS}`, { type: 'hello' })
    await client.expect('hello')
    await client.close()
  })
  for (const [i, node] of nodes.entries()) await assertEmpty(t, node, `node ${i + 1}`)
  t.equal(tracked.disconnects, BUS_CYCLES, 'every connection ran onDisconnect')
  t.same(faults, [], 'no uncaught exception or unhandled rejection')
  t.comment(`${BUS_CYCLES} cycles over two nodes in ${((Date.now() - started) / 1000).toFixed(1)} s`)
})
