import 'reflect-metadata'
import t, { type Test } from 'tap'
import { WebSocketResource } from '../lib/index.js'
import { connect, UpgradeRefusedError, type ErrorFrame } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

class Chatter extends WebSocketResource {
  static convention = 'any' as const
  override onConnect () { this.send({ type: 'hello', payload: this.request.url }) }
  onMany (msg: { payload: number }) { for (let i = 0; i < msg.payload; i++) this.send({ type: 'item', payload: i }) }
  onLong () { this.send({ type: 'long', payload: 'x'.repeat(500) }) }
  onPlain () { this.connection.sendRaw('not json') }
  onBinary () { this.connection.sendRaw(Buffer.from([1, 2, 3])) }
  onBye () { this.close(4000, 'bye now') }
  onQuiet () { this.close(4001) }
}

async function setup (t: Test) {
  const app = await build(t)
  app.addWebSocketRoute('/c', Chatter)
  return app
}

t.test('receives frames in order, hands out the first matching one and keeps the rest', async (t) => {
  const app = await setup(t)
  const client = await connect(app, '/c?from=path', { query: { and: 'query', n: 1, ok: true } })
  t.equal((await client.expect('hello')).payload, '/c?from=path&and=query&n=1&ok=true', 'query appended to an existing one')
  client.send({ type: 'many', payload: 3 })
  client.send({ type: 'plain' })
  client.send({ type: 'binary' })
  t.same(await client.expect('item'), { type: 'item', payload: 0 })
  t.equal((await client.receive()).payload, 1, 'receive() takes the oldest frame left')
  t.equal((await client.receive()).payload, 2)
  t.equal(await client.receive(), 'not json', 'non-JSON text comes as a string')
  t.same([...await client.receive() as unknown as Buffer], [1, 2, 3], 'binary comes as a Buffer')
})

t.test('describes what arrived when a wait times out, or the connection closes', async (t) => {
  const app = await setup(t)
  const client = await connect(app, '/c', { timeout: 50, query: {} })
  await client.expect('hello')
  await t.rejects(client.expect('nothing'), /no "nothing" frame within 50 ms; received: \{"type":"hello","payload":"\/c"\}/)
  client.send({ type: 'many', payload: 12 })
  client.send({ type: 'long' })
  client.send({ type: 'binary' })
  await client.expect('long')
  await t.rejects(client.expect('nothing', { timeout: 20 }), /15 frames, last 10: .*xxx\.\.\., <binary 3 bytes>/)
  const waiting = client.expect('never')
  client.send({ type: 'bye' })
  await t.rejects(waiting, /connection closed \(4000 "bye now"\) before "never" frame arrived/)
  await t.rejects(client.expect('never again'), /connection already closed \(4000\); "never again" frame never arrived/)
  t.same(await client.close(), { code: 4000, reason: 'bye now' }, 'close after close resolves with how it ended')
  const quiet = await connect(app, '/c')
  const silent = quiet.expect('never')
  quiet.send({ type: 'quiet' })
  await t.rejects(silent, /connection closed \(4001\) before/)
  const fresh = await connect(app, '/c')
  await fresh.receive()
  await t.rejects(fresh.receive({ timeout: 1 }), /no frame within 1 ms; received: \{"type":"hello"/)
  const none = await connect(app, '/c', { discriminator: 'kind' })
  await t.rejects(none.expect('hello', { timeout: 10 }), /no "hello" frame/, 'expect reads the configured field')
})

t.test('records every frame in and out in trace', async (t) => {
  const app = await setup(t)
  const client = await connect(app, '/c')
  await client.expect('hello')
  client.sendRaw('raw text')
  client.sendRaw(Buffer.from([7]))
  client.send({ type: 'binary' })
  t.equal((await client.receive<ErrorFrame>()).error.code, 'BAD_JSON')
  t.equal((await client.receive<ErrorFrame>()).error.code, 'UNSUPPORTED_DATA')
  t.ok(Buffer.isBuffer(await client.receive()))
  t.same(client.trace.map((e) => e.direction), ['in', 'out', 'out', 'out', 'in', 'in', 'in'])
  t.same(client.trace.map((e) => e.binary), [false, false, true, false, false, false, true])
})

t.test('rejects a refused upgrade with its HTTP status', async (t) => {
  const app = await setup(t)
  const error = await connect(app, '/nowhere').catch((err: unknown) => err)
  t.ok(error instanceof UpgradeRefusedError)
  t.equal((error as UpgradeRefusedError).statusCode, 404)
  t.match((error as Error).message, /refused with HTTP 404/)
})

t.test('says nothing arrived when nothing did', async (t) => {
  class Silent extends WebSocketResource {}
  const app = await build(t)
  app.addWebSocketRoute('/s', Silent)
  const client = await connect(app, '/s')
  await t.rejects(client.receive({ timeout: 5 }), /no frame within 5 ms; received: nothing/)
})

t.test('finishes the in-memory streams of closed connections, with or without ws client tracking, plain routes included', async (t) => {
  for (const clientTracking of [true, false]) {
    const app = await build(t, { websocket: { options: { clientTracking } } })
    app.addWebSocketRoute('/c', Chatter)
    let plainClosed: Promise<unknown> | undefined
    app.get('/plain', { websocket: true }, (socket) => {
      plainClosed = new Promise((resolve) => socket.on('close', resolve))
      socket.on('message', () => socket.close(4002))
    })
    const client = await connect(app, '/c')
    await client.expect('hello')
    client.send({ type: 'bye' })
    t.equal((await client.closed).code, 4000)
    await until(() => app.ws.size === 0, 2000, 'the server side to see the close')
    if (clientTracking) {
      const plain = await connect(app, '/plain')
      plain.send('x')
      t.equal((await plain.closed).code, 4002)
      await plainClosed
      t.pass('the plain route\'s server socket closed too')
    }
  }
})
