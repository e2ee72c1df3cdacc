import 'reflect-metadata'
import websocket from '@fastify/websocket'
import Fastify from 'fastify'
import t from 'tap'
import pachinko, { ConnectionManager, WebSocketResource } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

class Echo extends WebSocketResource {
  static convention = 'any' as const
  onEcho (msg: unknown) { this.send(msg) }
}

t.test('decorates the instance and registers @fastify/websocket itself', async (t) => {
  const app = await build(t)
  t.ok(app.ws instanceof ConnectionManager)
  t.equal(typeof app.addWebSocketRoute, 'function')
  t.ok(app.hasDecorator('websocketServer'))
  t.equal((app.websocketServer.options as { maxPayload: number }).maxPayload, 1024 * 1024)
})

t.test('refuses to be registered twice, at the same level or in a child', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko)
  await t.rejects(async () => { await app.register(pachinko) }, { code: 'FST_PACHINKO_ALREADY_REGISTERED' })
  const other = Fastify()
  t.teardown(() => other.close())
  await other.register(pachinko)
  other.register(async (child) => { await child.register(pachinko) })
  await t.rejects(async () => { await other.ready() }, { code: 'FST_PACHINKO_ALREADY_REGISTERED' })
})

t.test('reuses a @fastify/websocket the user registered, keeping their settings', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket, { options: { maxPayload: 64 } })
  await app.register(pachinko)
  app.addWebSocketRoute('/echo', Echo)
  t.equal((app.websocketServer.options as { maxPayload: number }).maxPayload, 64)
  const client = await connect(app, '/echo')
  client.send({ type: 'echo', payload: 'small' })
  await client.expect('echo')
  client.send({ type: 'echo', payload: 'x'.repeat(100) })
  t.equal((await client.closed).code, 1009)
})

t.test('on a reused @fastify/websocket, shutdown still closes with 1001 and a client\'s bare close is still echoed as 1005', async (t) => {
  const codes: number[] = []
  class Tracked extends WebSocketResource {
    override onDisconnect (code: number) { codes.push(code) }
  }
  const app = Fastify()
  await app.register(websocket)
  await app.register(pachinko)
  app.addWebSocketRoute('/tracked', Tracked)
  let plainServer: { _socket: { destroy: () => void } } | undefined
  app.get('/plain', { websocket: true }, (socket) => { plainServer = socket as never })

  const leaving = await connect(app, '/tracked')
  leaving.close()
  t.equal((await leaving.closed).code, 1005, 'the echo of a close without a code has none either')
  await until(() => codes.length === 1)
  t.same(codes, [1005])

  const staying = await connect(app, '/tracked')
  const plain = await app.injectWS('/plain')
  // injectWS's in-memory streams never emit 'close' (README, "Testing — things to know"): finish the server's half as a TCP socket would
  const plainClosed = new Promise<number>((resolve) => plain.on('close', (code) => { setImmediate(() => plainServer?._socket.destroy()); resolve(code) }))
  await app.close()
  t.same(await staying.closed, { code: 1001, reason: 'server shutting down' })
  t.same(codes, [1005, 1001], 'onDisconnect ran with 1001 before close() resolved')
  t.equal(await plainClosed, 1005, 'the user\'s own WebSocket routes keep their behaviour')
})

t.test('logs a plain WebSocket route that throws at error and closes it with 1011; client socket errors stay at debug', async (t) => {
  const app = await build(t, { maxPayload: 64 })
  app.get('/throws', { websocket: true }, () => { throw new Error('handler bug') })
  app.get('/rejects', { websocket: true }, async () => { throw new Error('async handler bug') })
  app.addWebSocketRoute('/r', class extends WebSocketResource {})
  for (const path of ['/throws', '/rejects']) {
    const client = await connect(app, path)
    t.equal((await client.closed).code, 1011, path)
  }
  t.same(app.logs.filter((l) => l.level === 50 && l.msg === 'WebSocket handler failed').map((l) => (l.err as Error).message), ['handler bug', 'async handler bug'])
  const big = await connect(app, '/r')
  big.sendRaw('x'.repeat(100))
  t.equal((await big.closed).code, 1009, 'ws keeps the code it chose')
  t.notOk(app.logs.some((l) => l.level >= 50 && l.msg !== 'WebSocket handler failed'), 'nothing else at error')
  t.ok(app.logs.some((l) => l.level === 20 && l.msg === 'WebSocket socket error'))
})

t.test('lowers ws\'s 100 MiB default frame limit on a reused @fastify/websocket', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket)
  await app.register(pachinko, { maxPayload: 4096 })
  t.equal((app.websocketServer.options as { maxPayload: number }).maxPayload, 4096)
})

t.test('passes websocket options through', async (t) => {
  const app = await build(t, { websocket: { options: { maxPayload: 32 } } })
  app.addWebSocketRoute('/echo', Echo)
  const client = await connect(app, '/echo')
  client.send({ type: 'echo', payload: 'x'.repeat(40) })
  t.equal((await client.closed).code, 1009)
})

t.test('refuses bad options with a message naming the option', async (t) => {
  const bad: Array<[object, RegExp]> = [
    [{ maxPayload: 0 }, /"maxPayload"/],
    [{ maxPayload: 1.5 }, /"maxPayload"/],
    [{ discriminator: '' }, /"discriminator"/],
    [{ strict: 'yes' }, /"strict"/],
    [{ onProtoPoisoning: 'allow' }, /"onProtoPoisoning".*'error', 'remove', 'ignore'/],
    [{ backend: 'postgres' }, /"backend"/],
    [{ backend: {} }, /"backend"/],
    [{ backpressure: { highWaterMark: -1 } }, /"backpressure.highWaterMark"/],
    [{ backpressure: { policy: 'block' } }, /"backpressure.policy"/],
    [{ backpressure: { sendTimeoutMs: '5' } }, /"backpressure.sendTimeoutMs"/],
    [{ closeTimeoutMs: 0 }, /"closeTimeoutMs"/]
  ]
  for (const [options, message] of bad) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(pachinko, options as never) }, { code: 'FST_PACHINKO_OPTION_INVALID', message }, JSON.stringify(options))
    await app.close()
  }
})

t.test('on close, sends every connection 1001 and runs every onDisconnect', async (t) => {
  const disconnected: number[] = []
  class Tracked extends WebSocketResource {
    override onDisconnect (code: number) { disconnected.push(code) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/t', Tracked)
  const clients = await Promise.all([1, 2, 3].map(() => connect(app, '/t')))
  await app.close()
  for (const client of clients) t.same(await client.closed, { code: 1001, reason: 'server shutting down' })
  t.same(disconnected, [1001, 1001, 1001])
  t.equal(app.ws.size, 0)
})

t.test('terminates connections that do not close within closeTimeoutMs, and says how many', async (t) => {
  let disconnects = 0
  class Tracked extends WebSocketResource {
    override onDisconnect () { disconnects++ }
  }
  const app = await build(t, { closeTimeoutMs: 100 })
  app.addWebSocketRoute('/t', Tracked)
  const stuck = await connect(app, '/t')
  const fine = await connect(app, '/t')
  stuck.socket.pause()
  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started >= 90, 'waited for the timeout')
  t.equal((await fine.closed).code, 1001)
  await until(() => disconnects === 2)
  t.equal(app.ws.size, 0)
  t.match(app.logs.find((l) => l.level === 40), { msg: /terminated WebSocket connections/, connections: 1 })
})
