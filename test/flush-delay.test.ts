import 'reflect-metadata'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import pachinko, { WebSocketResource } from '../lib/index.js'
import { build } from './helpers/build.js'

/*
 * `flushDelayMs` holds a connection's writes for up to that long, so frames
 * sent in different turns of the event loop leave in one write: a real client
 * reads them in one chunk. 0 (the default) flushes after each turn.
 */

const turn = async () => await new Promise((resolve) => setImmediate(resolve))

class Ticker extends WebSocketResource {
  static convention = 'any' as const
  /** Sends `n` frames, each in a turn of its own, then says so. */
  async onTicks (msg: { payload: { n: number, close?: boolean } }) {
    for (let i = 0; i < msg.payload.n; i++) {
      this.send({ type: 'tick', payload: i })
      await turn()
    }
    if (msg.payload.close === true) this.close(4000, 'done')
  }

  /** Sends a frame and, a turn later, whether it is still held in the send buffer. */
  async onProbe () {
    this.send({ type: 'tick', payload: 'probe' })
    await turn()
    this.send({ type: 'held', payload: this.connection.bufferedAmount > 0 })
  }
}

/** A real client that records each TCP read's frames. */
async function client (port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/t`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const reads: number[] = [] // frames per TCP chunk
  let framesInChunk = 0
  const raw = (ws as unknown as { _socket: Duplex })._socket
  raw.prependListener('data', () => { framesInChunk = 0; reads.push(0) })
  const frames: unknown[] = []
  ws.on('message', (data: Buffer) => {
    frames.push(JSON.parse(data.toString()).payload)
    reads[reads.length - 1] = ++framesInChunk
  })
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  return { ws, reads, frames, closed }
}

async function serve (t: Test, flushDelayMs?: number) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko, { flushDelayMs })
  app.addWebSocketRoute('/t', Ticker)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

t.test('with flushDelayMs, frames sent in separate turns reach the client in one read', async (t) => {
  const c = await client(await serve(t, 300))
  c.ws.send(JSON.stringify({ type: 'ticks', payload: { n: 5 } }))
  while (c.frames.length < 5) await turn()
  t.same(c.frames, [0, 1, 2, 3, 4], 'every frame, in order')
  t.same(c.reads, [5], 'all five in one TCP read')
  c.ws.close()
})

t.test('frames held by the delay still go out before a close', async (t) => {
  const c = await client(await serve(t, 300))
  c.ws.send(JSON.stringify({ type: 'ticks', payload: { n: 3, close: true } }))
  t.equal(await c.closed, 4000)
  t.same(c.frames, [0, 1, 2])
})

t.test('a write is held past the end of its turn only with a delay', async (t) => {
  for (const [delay, held] of [[undefined, false], [0, false], [300, true]] as const) {
    const c = await client(await serve(t, delay))
    c.ws.send(JSON.stringify({ type: 'probe' }))
    while (c.frames.length < 2) await turn()
    t.same(c.frames, ['probe', held], `flushDelayMs ${String(delay)}: ${held ? 'still buffered' : 'flushed'} a turn later`)
    c.ws.close()
  }
})

t.test('flushDelayMs must be a whole number of milliseconds from 0 to 1000', async (t) => {
  for (const bad of [-1, 1.5, 1001, '5', null]) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(pachinko, { flushDelayMs: bad as number }) }, { code: 'FST_PACHINKO_OPTION_INVALID', message: /flushDelayMs/ }, String(bad))
    await app.close()
  }
  const app = await build(t, { flushDelayMs: 0 })
  t.ok(app.ws, '0 is accepted')
})
