import 'reflect-metadata'
import t from 'tap'
import { WebSocket } from 'ws'
import type { AddressInfo } from 'node:net'
import type { FastifyRequest } from 'fastify'
import { WebSocketResource } from '../../lib/index.js'
import { connect, createBus, UpgradeRefusedError } from '../../lib/testing/index.js'
import { build, until, untilAsync } from '../helpers/build.js'

class Echo extends WebSocketResource {
  static convention = 'any' as const
  onEcho (msg: { payload: unknown }) { this.send({ type: 'echo', payload: { payload: msg.payload, user: this.connection.user, labels: [...this.connection.labels] } }) }
}

const userOf = (request: FastifyRequest): string | undefined => request.headers['x-user'] as string | undefined

/** Opens a real socket; resolves with it once open, or with the HTTP status that refused it. */
async function open (url: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return await new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode as number); res.resume() })
    ws.once('error', reject)
  })
}

t.test('maxConnections counts in-process sockets until they close (HTTP 503 beyond it)', async (t) => {
  const app = await build(t, { maxConnections: 1 })
  app.addWebSocketRoute('/e', Echo)
  const a = await connect(app, '/e')
  await t.rejects(connect(app, '/e'), new UpgradeRefusedError(503))
  t.ok(app.logs.some((l) => l.level === 30 && l.msg === 'WebSocket upgrade refused: too many connections on this server'))
  await a.close()
  const b = await connect(app, '/e')
  b.send({ type: 'echo', payload: 1 })
  t.equal((await b.expect<{ payload: { payload: number } }>('echo')).payload.payload, 1)
  t.equal(app.ws.metrics.upgradesRefused, 1)
})

t.test('500 connections from one IP with maxConnectionsPerIp 100: 100 sockets, 400 HTTP 429s, and the server still answers', async (t) => {
  const app = await build(t, { maxConnectionsPerIp: 100 })
  app.addWebSocketRoute('/e', Echo)
  app.get('/health', async () => app.ws.snapshot())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/e`
  const outcomes = await Promise.all(Array.from({ length: 500 }, async () => await open(url)))
  const sockets = outcomes.filter((o): o is WebSocket => typeof o !== 'number')
  t.teardown(() => { for (const ws of sockets) ws.terminate() })
  t.equal(sockets.length, 100, '100 sockets')
  t.equal(outcomes.filter((o) => o === 429).length, 400, '400 HTTP 429s')
  t.equal(app.ws.size, 100)
  const health = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/health`)
  t.equal(health.status, 200, 'HTTP still answers')
  t.equal((await health.json() as { connections: number }).connections, 100)
  const reply = new Promise<string>((resolve) => sockets[99].once('message', (data) => resolve(data.toString())))
  sockets[99].send(JSON.stringify({ type: 'echo', payload: 'still here' }))
  t.match(JSON.parse(await reply), { type: 'echo', payload: { payload: 'still here' } })
  t.equal(app.ws.metrics.upgradesRefused, 400)
  t.notOk(app.logs.some((l) => l.level >= 50), 'nothing at error level')
  // a closed socket frees its slot
  await new Promise((resolve) => { sockets[0].once('close', resolve); sockets[0].close() })
  await until(() => app.ws.size === 99, 2000, 'the close to reach the server')
  const again = await open(url)
  t.type(again, WebSocket, 'a freed slot admits the next one')
  if (typeof again !== 'number') sockets.push(again)
})

t.test('maxConnectionsPerIp reads request.ip, so behind a trusted proxy each client address counts apart', async (t) => {
  const app = await build(t, { maxConnectionsPerIp: 1 }, { trustProxy: true })
  app.addWebSocketRoute('/e', Echo)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/e`
  const a = await open(url, { 'x-forwarded-for': '203.0.113.1' })
  const b = await open(url, { 'x-forwarded-for': '203.0.113.2' })
  const c = await open(url, { 'x-forwarded-for': '203.0.113.1' })
  t.type(a, WebSocket)
  t.type(b, WebSocket)
  t.equal(c, 429)
  t.match(app.logs.find((l) => l.statusCode === 429), { ip: '203.0.113.1', level: 30 })
  for (const ws of [a, b]) if (typeof ws !== 'number') ws.terminate()
})

t.test('maxConnectionsPerUser counts what identify names before the upgrade, and identifies the connection as them', async (t) => {
  const app = await build(t, { maxConnectionsPerUser: 2, identify: userOf })
  app.addWebSocketRoute('/e', Echo)
  const ann = { headers: { 'x-user': 'ann' } }
  const [a1, a2] = await Promise.all([connect(app, '/e', ann), connect(app, '/e', ann)])
  await t.rejects(connect(app, '/e', ann), new UpgradeRefusedError(429))
  t.match(app.logs.find((l) => l.statusCode === 429), { user: 'ann', msg: 'WebSocket upgrade refused: too many connections for this user' })
  const bob = await connect(app, '/e', { headers: { 'x-user': 'bob' } })
  const anonymous = await connect(app, '/e')
  a1.send({ type: 'echo', payload: 1 })
  t.same((await a1.expect<{ payload: unknown }>('echo')).payload, { payload: 1, user: 'ann', labels: [] })
  anonymous.send({ type: 'echo', payload: 2 })
  t.same((await anonymous.expect<{ payload: unknown }>('echo')).payload, { payload: 2, labels: [] })
  t.equal(await app.ws.userSize('ann'), 2)
  await a2.close()
  await until(() => app.ws.size === 3)
  const a3 = await connect(app, '/e', ann)
  for (const c of [a1, a3, bob, anonymous]) await c.close()
})

t.test('identify may name labels and an expiry; a bad answer is the app’s error (HTTP 500), not the client’s', async (t) => {
  const expiresAt = new Date(Date.now() + 60_000)
  const app = await build(t, {
    identify: (request) => {
      const kind = request.headers['x-kind']
      if (kind === 'bad') return { user: 42 } as never
      if (kind === 'async') return Promise.resolve('cat')
      return { user: 'ann', labels: ['tenant:1'], expiresAt }
    }
  })
  app.addWebSocketRoute('/e', Echo)
  app.addWebSocketRoute('/own', Echo, { identify: () => undefined })
  const c = await connect(app, '/e')
  c.send({ type: 'echo', payload: 0 })
  t.same((await c.expect<{ payload: unknown }>('echo')).payload, { payload: 0, user: 'ann', labels: ['tenant:1'] })
  const [connection] = app.ws.local()
  t.same(connection.expiresAt, expiresAt)
  const cat = await connect(app, '/e', { headers: { 'x-kind': 'async' } })
  await cat.close()
  await t.rejects(connect(app, '/e', { headers: { 'x-kind': 'bad' } }), new UpgradeRefusedError(500))
  const own = await connect(app, '/own')
  own.send({ type: 'echo', payload: 1 })
  t.same((await own.expect<{ payload: unknown }>('echo')).payload, { payload: 1, labels: [] }, "the route's identify wins")
  await c.close()
  await own.close()
})

t.test('limits are checked at register', async (t) => {
  for (const [key, value] of [['maxConnections', 0], ['maxConnectionsPerIp', 1.5], ['maxConnectionsPerUser', '3'], ['credentials', { graceMs: -1 }], ['credentials', { onRefresh: 'x' }], ['inboundQueue', { maxFrames: 0 }]] as const) {
    await t.rejects(build(t, { [key]: value } as never), { code: 'FST_PACHINKO_OPTION_INVALID' }, key)
  }
})

t.test('an upgrade whose client is gone before admission takes no slot; a plain GET skips identify', async (t) => {
  const seen: string[] = []
  const app = await build(t, { maxConnections: 1, maxConnectionsPerIp: 1, identify: (request) => { seen.push(request.url); return 'ann' } })
  app.addHook('onRequest', async (request, reply) => { if (request.headers['x-vanish'] !== undefined) reply.raw.socket?.destroy() })
  app.addWebSocketRoute('/e', Echo)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/e`
  await t.rejects(open(url, { 'x-vanish': '1' }), { message: /socket hang up|ECONNRESET/ })
  const plain = await app.inject({ url: '/e' })
  t.equal(plain.statusCode, 404)
  t.same(seen, [], 'identify never ran')
  const first = await open(url)
  t.type(first, WebSocket, 'the vanished upgrade took no slot')
  t.equal(await open(url), 503)
  if (typeof first !== 'number') first.terminate()
  // in-process upgrades have no address: the per-address limit does not apply to them
  const inProcess = await build(t, { maxConnectionsPerIp: 1 })
  inProcess.addWebSocketRoute('/e', Echo)
  const [a, b] = await Promise.all([connect(inProcess, '/e'), connect(inProcess, '/e')])
  t.equal(inProcess.ws.size, 2)
  for (const c of [a, b]) await c.close()
})

t.test('maxConnectionsPerUser is cluster-wide: nodes count each other’s connections', async (t) => {
  const bus = createBus()
  const nodes: Array<Awaited<ReturnType<typeof build>>> = []
  for (let i = 0; i < 2; i++) {
    const app = await build(t, { backend: bus.backend(), maxConnectionsPerUser: 2, identify: userOf })
    app.addWebSocketRoute('/e', Echo)
    nodes.push(app)
  }
  const ann = { headers: { 'x-user': 'ann' } }
  const onA = await connect(nodes[0], '/e', ann)
  const onB = await connect(nodes[1], '/e', ann)
  for (const c of [onA, onB]) {
    c.send({ type: 'echo', payload: 0 })
    await c.expect('echo')
  }
  t.equal(await nodes[0].ws.userSize('ann'), 2)
  await t.rejects(connect(nodes[0], '/e', ann), new UpgradeRefusedError(429))
  await t.rejects(connect(nodes[1], '/e', ann), new UpgradeRefusedError(429))
  await onB.close()
  await untilAsync(async () => await nodes[0].ws.userSize('ann') === 1)
  const again = await connect(nodes[0], '/e', ann)
  await again.close()
  await onA.close()
})
