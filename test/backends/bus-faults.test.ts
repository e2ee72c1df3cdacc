import 'reflect-metadata'
import t, { type Test } from 'tap'
import { WebSocketResource, type ClusterTransport } from '../../lib/index.js'
import { seal } from '../../lib/backends/envelope.js'
import { kBackend } from '../../lib/symbols.js'
import { connect, createBus } from '../../lib/testing/index.js'
import { build, untilAsync } from '../helpers/build.js'

class Member extends WebSocketResource {
  override async onConnect () {
    const { room, user } = this.request.query as { room: string, user?: string }
    await this.join(room)
    if (user !== undefined) await this.identify(user)
    this.send({ type: 'welcome', payload: this.connection.id })
  }
}

async function cluster (t: Test, nodes = 2, heartbeatMs = 40) {
  const bus = createBus()
  const apps: Array<Awaited<ReturnType<typeof build>>> = []
  for (let i = 0; i < nodes; i++) {
    const app = await build(t, { backend: bus.backend({ heartbeatMs }) })
    app.addWebSocketRoute('/m', Member)
    apps.push(app)
  }
  const join = async (node: number, query: Record<string, string>) => {
    const client = await connect(apps[node], '/m', { query })
    return Object.assign(client, { id: (await client.expect('welcome')).payload as string })
  }
  // the transport is private to the backend: these tests reach it to inject faults
  const backend = (i: number) => ({ transport: (apps[i].ws[kBackend] as unknown as { transport: ClusterTransport }).transport })
  return { bus, apps, join, backend }
}

t.test('an outage of the bus: local delivery goes on, cross-node fails fast, everything is republished after', async (t) => {
  const { bus, apps: [a, b], join } = await cluster(t)
  const a1 = await join(0, { room: 'r', user: 'ann' })
  const b1 = await join(1, { room: 'r' })
  bus.outage()
  await t.rejects(a.ws.broadcastToRoom('r', { type: 'x' }), { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
  await a1.expect('x')
  await t.rejects(a.ws.count(), { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
  const late = await join(1, { room: 'late', user: 'bob' })
  await a1.close()
  bus.restore()
  bus.restore()
  await untilAsync(async () => b.logs.some((l) => /resubscribed/.test(l.msg)))
  await untilAsync(async () => await a.ws.roomSize('late').catch(() => -1) === 1, 3000, 'republished membership')
  await a.ws.broadcastToRoom('late', { type: 'after' })
  await late.expect('after')
  t.equal(await b.ws.count(), 2, 'the connection that left during the outage is gone everywhere')
  t.equal(b1.trace.filter((e) => e.direction === 'in' && (e.data as { type: string }).type === 'x').length, 0, 'nothing crossed during the outage')
  t.ok(a.logs.some((l) => l.level === 40 && /connection lost/.test(l.msg)))
  t.equal(a.logs.filter((l) => /reconnected/.test(l.msg)).length, 1, 'a second restore is not a second reconnect')
})

t.test('a wedged node stops counting after its ttl, and republishes itself once it beats again', async (t) => {
  const { apps: [a, b], join, backend } = await cluster(t)
  await join(1, { room: 'r' })
  await join(0, { room: 'r' })
  t.equal(await a.ws.roomSize('r'), 2)
  const transport = backend(1).transport
  const { heartbeat, updateNode } = transport
  transport.heartbeat = async () => { throw new Error('wedged') }
  transport.updateNode = async () => { throw new Error('wedged') }
  await b.ws.identify([...b.ws.local()][0], 'bob')
  await untilAsync(async () => await a.ws.roomSize('r') === 1, 3000, 'the wedged node to expire')
  t.ok(b.logs.some((l) => l.level === 40 && /membership update failed/.test(l.msg)), 'a failed update while up is a warning')
  t.ok(b.logs.some((l) => l.level === 20 && l.msg === 'heartbeat failed'))
  transport.heartbeat = heartbeat
  transport.updateNode = updateNode
  await untilAsync(async () => await a.ws.roomSize('r') === 2, 3000, 'the node to republish')
  t.equal((await a.ws.connections({ user: 'bob' })[Symbol.asyncIterator]().next()).value?.user, 'bob')
})

t.test('retries a republish that failed after a reconnect', async (t) => {
  const { bus, apps: [a, ...rest], join, backend } = await cluster(t)
  const b = (i: number) => rest[i - 1]
  await join(1, { room: 'r' })
  const transport = backend(1).transport
  const replaceNode = transport.replaceNode
  let failures = 0
  transport.replaceNode = async (...args) => {
    if (failures++ === 0) throw new Error('not yet')
    return await replaceNode.apply(transport, args)
  }
  bus.outage()
  bus.restore()
  await untilAsync(async () => failures >= 2, 3000, 'a second republish on a later heartbeat')
  t.ok(b(1).logs.some((l) => l.level === 50 && /republishing after reconnect failed/.test(l.msg)))
  t.equal(await a.ws.roomSize('r'), 1)
})

t.test('ignores malformed cluster messages and node messages for connections that are gone', async (t) => {
  const { apps: [a, b], join, backend } = await cluster(t)
  const b1 = await join(1, { room: 'r' })
  await backend(0).transport.publish('all', Buffer.from('no header line'))
  await backend(0).transport.publish('all', Buffer.from('{"not":"an envelope"}\n{}'))
  await backend(0).transport.publish(`node:${b.ws.nodeId}`, seal({ n: a.ws.nodeId, op: 'send', id: `${b.ws.nodeId}.gone` }, Buffer.from('{}')))
  await untilAsync(async () => b.logs.filter((l) => l.msg === 'ignored a malformed cluster message').length === 2)
  await a.ws.broadcastToRoom('r', { type: 'fine' })
  await b1.expect('fine')
})

t.test('serves local ids locally through a clustered backend', async (t) => {
  const { apps: [a], join } = await cluster(t)
  const a1 = await join(0, { room: 'r' })
  await a.ws.sendTo(a1.id, { type: 'direct' })
  await a1.expect('direct')
  t.same(await a.ws.roomsOf(a1.id), ['r'])
  await a.ws.disconnect(a1.id, 4000, 'local')
  t.equal((await a1.closed).code, 4000)
})

t.test('ignores a repeated "up" from its transport', async (t) => {
  const { apps: [a], backend } = await cluster(t, 1)
  ;(backend(0).transport as unknown as { status: (s: string) => void }).status('up')
  t.notOk(a.logs.some((l) => /reconnected/.test(l.msg)))
})
