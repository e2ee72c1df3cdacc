import 'reflect-metadata'
import t from 'tap'
import WebSocket from 'ws'
import { WebSocketResource } from '../lib/index.js'
import { build } from './helpers/build.js'

class Listener extends WebSocketResource {
  override async onConnect () {
    await this.join('firehose')
    this.send({ type: 'welcome', payload: this.connection.id })
  }
}

const KiB = 1024
const MiB = 1024 * KiB

/** A real network client; resolves with its socket and its server-side connection id. */
async function open (port: number, onFrame: () => void = () => {}): Promise<{ socket: WebSocket, id: string }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/firehose`)
  socket.on('message', onFrame)
  const welcome = await new Promise<Buffer>((resolve) => socket.once('message', resolve))
  return { socket, id: JSON.parse(welcome.toString()).payload }
}

for (const policy of ['close', 'drop', 'wait'] as const) {
  t.test(`policy "${policy}": 50 MB to a client that stopped reading keeps its buffer bounded; the others get everything`, async (t) => {
    const highWaterMark = 256 * KiB
    const app = await build(t, { backpressure: { highWaterMark, policy, sendTimeoutMs: 5 } })
    app.addWebSocketRoute('/firehose', Listener)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }

    const FAST = 5
    const received = new Array<number>(FAST).fill(0)
    const fast = await Promise.all(Array.from({ length: FAST }, async (_, i) => await open(port, () => { received[i]++ })))
    const slow = await open(port)
    slow.socket.pause()
    const slowServerSide = app.ws.get(slow.id)!
    const fastServerSide = fast.map(({ id }) => app.ws.get(id)!)

    const message = { type: 'chunk', payload: 'x'.repeat(64 * KiB) }
    const MESSAGES = 800 // ~50 MB in all
    let peak = 0
    let failures = 0
    for (let i = 0; i < MESSAGES; i++) {
      await app.ws.broadcastToRoom('firehose', message).catch(() => { failures++ })
      peak = Math.max(peak, slowServerSide.bufferedAmount)
      // a healthy client reads as fast as it can; pace the producer to it, not to the stalled one
      while (fastServerSide.some((c) => c.bufferedAmount > highWaterMark / 2)) await new Promise((resolve) => setImmediate(resolve))
    }
    const deadline = Date.now() + 20000
    while (received.some((n) => n < MESSAGES + 1) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    t.same(received, new Array(FAST).fill(MESSAGES + 1), 'every healthy client got every message')
    t.ok(peak <= highWaterMark + 64 * KiB + 1024, `the slow client's server-side buffer peaked at ${(peak / KiB).toFixed(0)} KiB (limit ${highWaterMark / KiB} KiB + one message)`)
    t.ok(peak < MiB, 'far below the 50 MB that was sent')
    if (policy === 'close') t.equal(app.ws.metrics.slowConsumersClosed, 1)
    if (policy === 'drop') t.ok(app.ws.metrics.messagesDropped > MESSAGES / 2)
    if (policy === 'wait') t.ok(failures > 0, `${failures} broadcasts reported the timed-out recipient`)
    slow.socket.terminate()
    for (const { socket } of fast) socket.terminate()
  })
}
