import 'reflect-metadata'
import t, { type Test } from 'tap'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ClusterBackend, CloseCode, MemoryBackend, redisBackend, WebSocketResource, type Backend, type ClusterTransport, type PachinkoOptions } from '../../lib/index.js'
import { connect, createBus, UpgradeRefusedError } from '../../lib/testing/index.js'
import { LocalRevocations } from '../../lib/credentials/revocations.js'
import { closeIfRevoked } from '../../lib/credentials/revoke.js'
import { build, untilAsync, type LogLine } from '../helpers/build.js'
import { needRedis, REDIS_URL, testPrefix } from '../helpers/redis.js'

/** A route whose upgrade names its user (x-user) and labels (x-label) before it happens. */
class Known extends WebSocketResource {
  static convention = 'any' as const
  onWho () { this.send({ type: 'who', payload: { user: this.connection.user, labels: [...this.connection.labels] } }) }
}

/** Identifies in onConnect, as the chat example does. */
class Late extends WebSocketResource {
  static convention = 'any' as const
  override async onConnect () {
    await this.identify(this.request.headers['x-user'] as string)
    this.send({ type: 'welcome' })
  }
}

const identify = (request: FastifyRequest): { user?: string, labels?: string[] } => ({
  user: request.headers['x-user'] as string | undefined,
  labels: request.headers['x-label'] === undefined ? [] : [request.headers['x-label'] as string]
})

type App = FastifyInstance & { logs: LogLine[] }

async function node (t: Test, backend: PachinkoOptions['backend']): Promise<App> {
  const app = await build(t, { backend })
  app.addWebSocketRoute('/known', Known, { identify })
  app.addWebSocketRoute('/late', Late)
  await app.ready()
  return app
}

const ann = { headers: { 'x-user': 'ann' } }

/** The contract every backend keeps: two nodes when the backend is clustered, the same node twice otherwise. */
function revocationSuite (t: Test, name: string, nodes: (t: Test) => Promise<[App, App]>): void {
  t.test(`${name}: revoking a user closes it on every node with 4403 and refuses its reconnects`, async (t) => {
    const [a, b] = await nodes(t)
    const onA = await connect(a, '/known', ann)
    const onB = await connect(b, '/known', ann)
    const bob = await connect(b, '/known', { headers: { 'x-user': 'bob' } })
    for (const c of [onA, onB]) {
      c.send({ type: 'who' })
      await c.expect('who')
    }
    t.equal(await a.ws.revoke({ user: 'ann' }, { forMs: 60_000 }), 2)
    t.same(await onA.closed, { code: CloseCode.REVOKED, reason: 'revoked' })
    t.same(await onB.closed, { code: 4403, reason: 'revoked' })
    await t.rejects(connect(b, '/known', ann), new UpgradeRefusedError(403), 'refused before the upgrade where the route knows the user')
    t.ok(b.logs.some((l) => l.level === 30 && l.msg === 'WebSocket upgrade refused: revoked' && l.user === 'ann'))
    const late = await connect(b, '/late', ann)
    t.match(await late.expect('error'), { error: { code: 'REVOKED' } })
    t.same(await late.closed, { code: 4403, reason: 'revoked' }, 'closed when identified later (onConnect refuses)')
    bob.send({ type: 'who' })
    t.same((await bob.expect<{ payload: unknown }>('who')).payload, { user: 'bob', labels: [] }, 'others are untouched')
    t.ok(a.ws.metrics.connectionsRevoked + b.ws.metrics.connectionsRevoked >= 3)
    for (const app of [a, b]) t.notOk(app.logs.some((l) => l.level >= 50), 'nothing at error level')
    await bob.close()
  })

  t.test(`${name}: revoking a label closes its connections everywhere; forMs 0 refuses nothing afterwards`, async (t) => {
    const [a, b] = await nodes(t)
    const tagged = await connect(b, '/known', { headers: { 'x-user': 'cat', 'x-label': 'session:1' } })
    const other = await connect(a, '/known', { headers: { 'x-user': 'cat', 'x-label': 'session:2' } })
    for (const c of [tagged, other]) {
      c.send({ type: 'who' })
      await c.expect('who')
    }
    t.equal(await a.ws.revoke({ label: 'session:1' }, { forMs: 60_000, reason: 'logged out' }), 1)
    t.same(await tagged.closed, { code: 4403, reason: 'logged out' })
    await t.rejects(connect(a, '/known', { headers: { 'x-user': 'cat', 'x-label': 'session:1' } }), new UpgradeRefusedError(403))
    const plain = await connect(b, '/late', { headers: { 'x-user': 'dan' } })
    await plain.expect('welcome')
    const dan = [...b.ws.local()].find((c) => c.user === 'dan')
    await t.rejects(b.ws.label(dan as never, 'session:1'), { code: 'REVOKED' }, 'labelled later: closed')
    t.equal((await plain.closed).code, 4403)
    t.equal(await b.ws.revoke({ user: 'cat' }), 1, 'forMs 0: closes only')
    t.equal((await other.closed).code, 4403)
    const back = await connect(a, '/known', { headers: { 'x-user': 'cat' } })
    back.send({ type: 'who' })
    t.same((await back.expect<{ payload: unknown }>('who')).payload, { user: 'cat', labels: [] })
    await back.close()
  })

  t.test(`${name}: revoking one connection closes it wherever it lives`, async (t) => {
    const [a, b] = await nodes(t)
    const one = await connect(b, '/known', ann)
    const [connection] = b.ws.local()
    t.equal(await a.ws.revoke({ connection: connection.id }), 1)
    t.equal((await one.closed).code, 4403)
    await untilAsync(async () => await a.ws.count() === 0)
    t.equal(await a.ws.revoke({ connection: connection.id }), 0, 'a connection gone already counts 0')
    const again = await connect(b, '/known', ann)
    await again.close()
  })
}

revocationSuite(t, 'memory', async (t) => {
  const app = await node(t, 'memory')
  return [app, app]
})

revocationSuite(t, 'bus (two nodes)', async (t) => {
  const bus = createBus()
  return [await node(t, bus.backend()), await node(t, bus.backend())]
})

t.test('redis (two nodes)', async (t) => {
  if (!await needRedis(t)) return
  revocationSuite(t, 'redis', async (t) => {
    const prefix = testPrefix('revoke')
    return [await node(t, redisBackend({ url: REDIS_URL, prefix })), await node(t, redisBackend({ url: REDIS_URL, prefix }))]
  })
})

t.test('a backend without revoke/revoked/userSize keeps revocations and counts per node', async (t) => {
  const hidden = new Set<PropertyKey>(['revoke', 'revoked', 'userSize'])
  const memory = new MemoryBackend()
  const backend = new Proxy(memory, { get: (target, key) => hidden.has(key) ? undefined : Reflect.get(target, key, target) }) as unknown as Backend
  const app = await build(t, { backend, identify, maxConnectionsPerUser: 1 })
  app.addWebSocketRoute('/known', Known)
  const first = await connect(app, '/known', ann)
  t.equal(await app.ws.userSize('ann'), 1)
  await t.rejects(connect(app, '/known', ann), new UpgradeRefusedError(429))
  t.equal(await app.ws.revoke({ user: 'ann' }, { forMs: 60_000 }), 1)
  t.equal((await first.closed).code, 4403)
  await t.rejects(connect(app, '/known', ann), new UpgradeRefusedError(403))
})

t.test('revoke checks its arguments at the call site', async (t) => {
  const app = await build(t)
  for (const subject of [{}, { user: 'a', label: 'b' }, null, { user: '' }, { connection: 7 }]) {
    t.throws(() => { void app.ws.revoke(subject as never) }, { code: 'FST_PACHINKO_OPTION_INVALID' })
  }
  t.throws(() => { void app.ws.revoke({ user: 'a' }, { forMs: -1 }) }, { code: 'FST_PACHINKO_OPTION_INVALID', message: /forMs/ })
  t.throws(() => { void app.ws.revoke({ connection: 'x' }, { forMs: 10 }) }, { code: 'FST_PACHINKO_OPTION_INVALID', message: /never reused/ })
})

t.test('a revocation lapses after forMs', async (t) => {
  const store = new LocalRevocations()
  t.equal(await store.revoked(['user:a']), false, 'nothing revoked')
  await store.revoke('user:a', 1)
  await store.revoke('user:b', 60_000)
  const lapsed = Date.now() + 2
  while (Date.now() < lapsed) await new Promise((resolve) => setImmediate(resolve))
  t.equal(await store.revoked(['user:a']), false)
  t.equal(await store.revoked(['user:a', 'user:b']), true)
  t.equal(await store.revoked(['label:c']), false)
})

t.test('during a backend outage identification goes on, answered from this node’s own revocations', async (t) => {
  const bus = createBus()
  const a = await node(t, bus.backend())
  bus.outage()
  await t.rejects(a.ws.revoke({ user: 'eve' }, { forMs: 60_000 }), { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
  const ann = await connect(a, '/late', { headers: { 'x-user': 'ann' } })
  await ann.expect('welcome')
  t.ok(a.logs.some((l) => l.level === 40 && /cannot read revocations/.test(l.msg)), 'a warning, not a refusal')
  await t.rejects(connect(a, '/known', { headers: { 'x-user': 'eve' } }), new UpgradeRefusedError(403), 'what this node revoked still holds')
  bus.restore()
  await ann.close()
})

t.test('revoking a connection on an unreachable node rejects with the backend’s error', async (t) => {
  const bus = createBus()
  const a = await node(t, bus.backend())
  bus.outage()
  await t.rejects(a.ws.revoke({ connection: 'elsewhere.abc' }), { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
  bus.restore()
})

t.test('a cluster transport that stores no revocations keeps them on each node', async (t) => {
  const bus = createBus()
  const hidden = new Set<PropertyKey>(['revoke', 'revoked'])
  const bare = (): ClusterBackend => {
    const transport = (bus.backend() as unknown as { transport: ClusterTransport }).transport
    return new ClusterBackend(new Proxy(transport, { get: (target, key) => hidden.has(key) ? undefined : Reflect.get(target, key, target) }), 'bare-bus')
  }
  const a = await node(t, bare())
  const b = await node(t, bare())
  await a.ws.revoke({ user: 'ann' }, { forMs: 60_000 })
  await t.rejects(connect(a, '/known', ann), new UpgradeRefusedError(403), 'refused where it was revoked')
  const elsewhere = await connect(b, '/known', ann)
  elsewhere.send({ type: 'who' })
  t.same((await elsewhere.expect<{ payload: unknown }>('who')).payload, { user: 'ann', labels: [] }, 'not on the other node')
  await elsewhere.close()
})

t.test('a revocation landing between the check and the identification closes with 4403; a failing backend closes with 1011', async (t) => {
  let revokedAnswers = [false, true]
  let failIdentify = false
  const memory = new MemoryBackend()
  const backend = new Proxy(memory, {
    get: (target, key) => {
      if (key === 'revoked') return async () => revokedAnswers.shift() ?? false
      if (key === 'identify' && failIdentify) return async () => { throw new Error('store down') }
      const value = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  }) as unknown as Backend
  const app = await build(t, { backend, identify })
  app.addWebSocketRoute('/known', Known)
  const raced = await connect(app, '/known', ann)
  t.match(await raced.expect('error'), { error: { code: 'REVOKED' } })
  t.equal((await raced.closed).code, 4403)
  t.ok(app.logs.some((l) => l.level === 30 && /connection refused: /.test(l.msg)))
  revokedAnswers = []
  failIdentify = true
  const failed = await connect(app, '/known', ann)
  t.equal((await failed.closed).code, 1011)
  t.ok(app.logs.some((l) => l.level === 50 && /could not identify the connection/.test(l.msg)), 'a server fault is an error')
})

t.test('a revoked connection without wire names (the hub’s) gets the error frame with the default discriminator', async (t) => {
  const store = new LocalRevocations()
  await store.revoke('user:ann', 60_000)
  const sent: unknown[] = []
  const closed: number[] = []
  const connection = { user: 'ann', labels: new Set<string>(), isOpen: true, send: (m: unknown) => sent.push(m), close: (code: number) => closed.push(code) }
  const metrics = { connectionsRevoked: 0 }
  await t.rejects(closeIfRevoked(store, metrics as never, connection as never), { code: 'REVOKED', close: 4403 })
  t.match(sent, [{ type: 'error', error: { code: 'REVOKED' } }])
  t.same(closed, [4403])
  t.equal(metrics.connectionsRevoked, 1)
  connection.isOpen = false
  await t.rejects(closeIfRevoked(store, metrics as never, connection as never), { code: 'REVOKED' })
  t.same(closed, [4403], 'a closed one is not closed again')
})
