import 'reflect-metadata'
import t from 'tap'
import type WebSocket from 'ws'
import { WebSocketResource } from '../../lib/index.js'
import { build, until } from '../helpers/build.js'
import { inBatches, openClient, portOf, watchProcess } from './fixtures/helpers.js'

/*
 * One client stops reading (its TCP socket is paused, so the kernel buffers
 * fill and then the server's do) while 400 healthy clients share a room
 * with it. The stalled client is also subscribed to a firehose room, because
 * a loopback socket absorbs ~4 MB before the server has to buffer anything:
 * pushing that much to all 401 clients would take minutes, the firehose
 * takes a fraction of a second.
 */

const KiB = 1024
const FAST = 400
const TICKS = 100
const CHUNK = 128 * KiB
const HIGH_WATER_MARK = 256 * KiB
const FRAME_OVERHEAD = 16 // a WebSocket header is at most 14 bytes

class Subscriber extends WebSocketResource {
  override async onConnect () {
    await this.join('everyone')
    if ('firehose' in (this.request.query as object)) await this.join('firehose')
    this.send({ type: 'welcome', payload: this.connection.id })
  }
}

for (const policy of ['drop', 'close'] as const) {
  t.test(`policy "${policy}": a client that stopped reading stays within its buffer limit while ${FAST} others get every message`, async (t) => {
    const faults = watchProcess(t)
    const app = await build(t, { backpressure: { highWaterMark: HIGH_WATER_MARK, policy } })
    app.addWebSocketRoute('/feed', Subscriber)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = portOf(app)
    const started = Date.now()

    const received = new Array<number>(FAST).fill(0)
    const lastTick = new Array<number>(FAST).fill(-1)
    const inOrder = new Array<boolean>(FAST).fill(true)
    const sockets: WebSocket[] = []
    await inBatches(FAST, 100, async (i) => {
      const { socket } = await openClient(port, '/feed')
      socket.on('message', (data: Buffer) => {
        const n = JSON.parse(data.toString()).payload as number
        inOrder[i] &&= n === lastTick[i] + 1
        lastTick[i] = n
        received[i]++
      })
      sockets[i] = socket
    })
    const slow = await openClient(port, '/feed?firehose')
    slow.socket.pause()
    t.teardown(() => { for (const socket of [...sockets, slow.socket]) socket.terminate() })
    const stalled = app.ws.get(slow.welcome.payload)!
    const connected = (Date.now() - started) / 1000

    const chunk = { type: 'chunk', payload: 'x'.repeat(CHUNK) }
    let peak = 0
    for (let tick = 0; tick < TICKS; tick++) {
      await app.ws.broadcastToRoom('everyone', { type: 'tick', payload: tick })
      await app.ws.broadcastToRoom('firehose', chunk)
      peak = Math.max(peak, stalled.bufferedAmount)
      await new Promise((resolve) => setImmediate(resolve)) // let the sockets write, as a live server would between messages
    }
    await until(() => received.every((n) => n === TICKS), 30_000, `every healthy client to get all ${TICKS} ticks`)

    t.same(received, new Array(FAST).fill(TICKS), `each of the ${FAST} healthy clients got exactly ${TICKS} ticks`)
    t.ok(inOrder.every(Boolean), 'in order, none twice')
    const limit = HIGH_WATER_MARK + CHUNK + FRAME_OVERHEAD
    t.ok(peak > HIGH_WATER_MARK, `the stalled client did reach the high-water mark (peak ${(peak / KiB).toFixed(0)} KiB)`)
    t.ok(peak <= limit, `its server-side buffer stayed within the high-water mark plus one message (peak ${(peak / KiB).toFixed(0)} KiB, limit ${(limit / KiB).toFixed(0)} KiB) of ${(TICKS * CHUNK / KiB / KiB).toFixed(1)} MiB sent to it`)
    t.ok(app.ws.metrics.messagesDropped > 0, `${app.ws.metrics.messagesDropped} messages held back from it`)
    t.equal(app.ws.metrics.slowConsumersClosed, policy === 'close' ? 1 : 0, policy === 'close' ? 'closed once, with 1013' : 'kept open')
    t.equal(stalled.isOpen, policy === 'drop', policy === 'drop' ? 'still open under "drop"' : 'closing under "close"')
    t.same(faults, [], 'no uncaught exception or unhandled rejection')
    t.comment(`${FAST + 1} clients connected in ${connected.toFixed(1)} s; ${TICKS} ticks to each and ${TICKS} × ${CHUNK / KiB} KiB to the stalled one; ${((Date.now() - started) / 1000).toFixed(1)} s in all`)
  })
}
