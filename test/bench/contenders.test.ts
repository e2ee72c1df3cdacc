import t, { type Test } from 'tap'
import type { Duplex } from 'node:stream'
import { io } from 'socket.io-client'
import { WebSocket } from 'ws'
import type { ContenderModule, ContenderServer } from '../../bench/contenders/contender.js'
import * as fastifyWs from '../../bench/contenders/fastify-ws.js'
import * as pachinko from '../../bench/contenders/pachinko.js'
import * as pachinkoDeflate from '../../bench/contenders/pachinko-deflate.js'
import * as pachinkoValidated from '../../bench/contenders/pachinko-validated.js'
import * as pachinkoHistory from '../../bench/contenders/pachinko-history.js'
import * as socketio from '../../bench/contenders/socketio.js'
import * as wsFast from '../../bench/contenders/ws-fast.js'
import * as wsPlain from '../../bench/contenders/ws-plain.js'

/*
 * Every benchmark contender speaks the same protocol: join → joined, a valid
 * echo comes back unchanged, an invalid one gets a VALIDATION error frame, a
 * say reaches every member of the room. (The Redis variants need two nodes and
 * a Redis server; the bench itself checks them.)
 */

interface Frame { type: string, body: any }

/** A test client: frames are queued as they arrive and taken in order with next(). */
interface Probe {
  send (type: string, payload: unknown): void
  next (): Promise<Frame>
  close (): Promise<void>
}

function queue (): { push: (frame: Frame) => void, next: () => Promise<Frame> } {
  const frames: Frame[] = []
  const waiting: Array<(frame: Frame) => void> = []
  return {
    push (frame) {
      const waiter = waiting.shift()
      if (waiter !== undefined) waiter(frame)
      else frames.push(frame)
    },
    async next () {
      if (frames.length > 0) return frames.shift() as Frame
      return await new Promise<Frame>((resolve) => waiting.push(resolve))
    }
  }
}

async function wsProbe (url: string): Promise<Probe & { raw: WebSocket }> {
  const ws = new WebSocket(url)
  const q = queue()
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString())
    q.push({ type: msg.type, body: msg.type === 'error' ? msg.error : msg.payload })
  })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  return {
    raw: ws,
    send: (type, payload) => ws.send(JSON.stringify({ type, payload })),
    next: q.next,
    close: async () => {
      if (ws.readyState === WebSocket.CLOSED) return
      await new Promise((resolve) => { ws.once('close', resolve); ws.close() })
    }
  }
}

async function socketIoProbe (url: string): Promise<Probe> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false })
  const q = queue()
  socket.onAny((type: string, body: unknown) => q.push({ type, body }))
  await new Promise((resolve, reject) => { socket.once('connect', () => resolve(undefined)); socket.once('connect_error', reject) })
  return {
    send: (type, payload) => socket.emit(type, payload),
    next: q.next,
    close: async () => { socket.disconnect() }
  }
}

async function started (t: Test, module: ContenderModule): Promise<ContenderServer> {
  const server = await module.start()
  t.teardown(async () => await server.close())
  return server
}

/** The protocol every contender must speak, with two members `a` and `b`. */
async function speaksProtocol (t: Test, a: Probe, b: Probe): Promise<void> {
  a.send('join', { room: 'r' })
  t.same(await a.next(), { type: 'joined', body: { room: 'r' } }, 'join is answered with joined')
  b.send('join', { room: 'r' })
  t.same(await b.next(), { type: 'joined', body: { room: 'r' } })

  a.send('echo', { seq: 1, text: 'hello' })
  t.same(await a.next(), { type: 'echo', body: { seq: 1, text: 'hello' } }, 'a valid echo comes back unchanged')

  a.send('echo', { seq: 2, text: 42 })
  const error = await a.next()
  t.equal(error.type, 'error', 'an invalid echo gets an error frame')
  t.match(error.body, { code: 'VALIDATION', tag: 'echo', message: String })
  t.ok(Array.isArray(error.body.issues) && error.body.issues.length > 0, 'the error frame lists the issues')

  a.send('echo', { seq: 3, text: 'x'.repeat(257) })
  t.match(await a.next(), { type: 'error', body: { code: 'VALIDATION' } }, 'text over 256 characters is refused')

  const said = { room: 'r', text: 'hi all', sentAt: 1234.5 }
  b.send('say', said)
  t.same(await a.next(), { type: 'said', body: said }, 'say reaches the other member')
  t.same(await b.next(), { type: 'said', body: said }, 'and the sender, who is a member too')
}

const wsContenders: Array<[string, ContenderModule]> = [
  ['ws', wsPlain], ['ws-fast', wsFast], ['fastify-ws', fastifyWs], ['pachinko', pachinko], ['pachinko-validated', pachinkoValidated], ['pachinko-deflate', pachinkoDeflate], ['pachinko-history', pachinkoHistory]
]

for (const [name, module] of wsContenders) {
  t.test(`${name} speaks the bench protocol and answers bad frames with error frames`, async (t) => {
    const server = await started(t, module)
    const url = `ws://127.0.0.1:${server.port}${server.path}`
    const [a, b, bystander] = await Promise.all([wsProbe(url), wsProbe(url), wsProbe(url)])
    await speaksProtocol(t, a, b)

    const answers = async (data: string | Buffer): Promise<string> => {
      a.raw.send(data)
      const frame = await a.next()
      t.equal(frame.type, 'error')
      return frame.body.code
    }
    t.equal(await answers(Buffer.from([1, 2, 3])), 'UNSUPPORTED_DATA')
    t.equal(await answers('not json'), 'BAD_JSON')
    t.equal(await answers('42'), 'BAD_MESSAGE')
    t.equal(await answers('null'), 'BAD_MESSAGE')
    t.equal(await answers('{"type":"dance","payload":{}}'), 'UNKNOWN_TYPE')
    t.equal(await answers('{"type":"join","payload":{"room":""}}'), 'VALIDATION')
    t.equal(await answers('{"type":"say","payload":{"room":"r"}}'), 'VALIDATION')

    b.send('say', { room: 'nobody', text: 'anyone?', sentAt: 1 })
    b.send('echo', { seq: 4, text: 'after' })
    t.same(await b.next(), { type: 'echo', body: { seq: 4, text: 'after' } }, 'a say to an empty room reaches no one')

    // two frames in one TCP segment: both replies are written in the same turn
    const socket = (a.raw as unknown as { _socket: Duplex })._socket
    socket.cork()
    a.send('echo', { seq: 5, text: 'one' })
    a.send('echo', { seq: 6, text: 'two' })
    socket.uncork()
    t.same([await a.next(), await a.next()], [{ type: 'echo', body: { seq: 5, text: 'one' } }, { type: 'echo', body: { seq: 6, text: 'two' } }])

    await bystander.close()
    await a.close()
    t.equal(server.connections() >= 1, true, 'counts its connections')
    // b is left open: closing the server must close it
  })
}

t.test('socketio speaks the bench protocol', async (t) => {
  const server = await started(t, socketio)
  const url = `http://127.0.0.1:${server.port}`
  const [a, b] = await Promise.all([socketIoProbe(url), socketIoProbe(url)])
  t.teardown(async () => { await a.close(); await b.close() })
  await speaksProtocol(t, a, b)
  a.send('join', { room: 42 })
  t.match(await a.next(), { type: 'error', body: { code: 'VALIDATION', tag: 'join' } })
  a.send('say', { room: 'r' })
  t.match(await a.next(), { type: 'error', body: { code: 'VALIDATION', tag: 'say' } })
  t.equal(server.connections(), 2)
})

t.test('pachinko answers an ask with a ref by a reply frame (scenario g), and the deflate variant negotiates compression', async (t) => {
  for (const module of [pachinko, pachinkoDeflate]) {
    const server = await started(t, module)
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${server.path}`, { perMessageDeflate: true })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const reply = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())))
    ws.send(JSON.stringify({ type: 'ask', ref: 7, payload: { seq: 1, text: 'hi' } }))
    t.same(JSON.parse(await reply), { type: 'reply', ref: 7, payload: { seq: 1, text: 'hi' } })
    t.equal(ws.extensions, module === pachinko ? '' : 'permessage-deflate')
    ws.close()
  }
})
