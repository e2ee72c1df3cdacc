import 'reflect-metadata'
import t from 'tap'
import { ClientError, CloseCode, handlesMessage, WebSocketResource, type ClusterTransport } from '../lib/index.js'
import { isValidCloseCode } from '../lib/connection/close-codes.js'
import { seal } from '../lib/backends/envelope.js'
import { kBackend } from '../lib/symbols.js'
import { connect, createBus } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

/*
 * Every entry point that takes a close code checks it where it is given: a
 * coded error at the call site, never a throw from inside ws, a stuck socket or
 * an unhandled rejection. This file fails on any unhandled rejection.
 */

const rejections: unknown[] = []
const onRejection = (reason: unknown): void => { rejections.push(reason) }
process.on('unhandledRejection', onRejection)
t.teardown(() => {
  process.off('unhandledRejection', onRejection)
})

const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 401, -1, 1000.5, NaN, Infinity, '1000', null, {}]
const code = { code: 'FST_PACHINKO_CLOSE_CODE_INVALID' }

t.test('accepts exactly 1000–1003, 1007–1014 and 3000–4999', async (t) => {
  const valid: number[] = []
  for (let c = 0; c < 6000; c++) if (isValidCloseCode(c)) valid.push(c)
  t.same(valid.filter((c) => c < 3000), [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014])
  t.equal(valid.filter((c) => c >= 3000).length, 2000)
  for (const bad of INVALID) t.notOk(isValidCloseCode(bad), String(bad))
})

t.test('names the bad value in the error, and cuts or stringifies reasons', async (t) => {
  t.throws(() => new ClientError('X', 'x', { close: 'a very long string of a close code' as never }), { message: /"a very long string o…"/ })
  const { closeReason } = await import('../lib/connection/close-codes.js')
  t.equal(closeReason(42), '42')
  t.equal(closeReason(null), '')
  t.equal(Buffer.byteLength(closeReason('é'.repeat(100))) <= 123, true)
})

t.test('refuses an invalid close code in ClientError at construction', async (t) => {
  for (const bad of INVALID) t.throws(() => new ClientError('X', 'x', { close: bad as number }), code, String(bad))
  t.equal(new ClientError('X', 'x', { close: 4001 }).close, 4001)
})

class Closer extends WebSocketResource {
  override onConnect () {
    const { close } = this.request.query as { close?: string }
    if (close !== undefined) throw new ClientError('BYE', 'bye', { close: Number(close) })
  }

  @handlesMessage('close')
  closeWith (msg: { payload: unknown }) {
    this.close(msg.payload as number)
  }

  @handlesMessage('closeConnection')
  closeConnection (msg: { payload: unknown }) {
    this.connection.close(msg.payload as number, 'by connection')
  }

  @handlesMessage('whoami')
  whoami () {
    this.send({ type: 'id', payload: this.connection.id })
  }
}

t.test('a ClientError with an invalid close code thrown from onConnect refuses the connection with 1008', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/c', Closer)
  const client = await connect(app, '/c', { query: { close: 401 } })
  t.equal((await client.closed).code, CloseCode.POLICY_VIOLATION)
  await until(() => app.ws.size === 0, 2000, 'the connection to be released')
  t.ok(app.logs.some((l) => l.level === 50 && (l.err as { code?: string })?.code === 'FST_PACHINKO_CLOSE_CODE_INVALID'), 'a programmer error, logged with its code')
})

t.test('close() with an invalid code in a handler is a coded handler error; the connection stays usable', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/c', Closer)
  const client = await connect(app, '/c')
  for (const bad of [999, 1005, 'x', 70000]) {
    client.send({ type: 'close', payload: bad })
    t.match((await client.expect('error')).error, { code: 'INTERNAL', tag: 'close' })
    client.send({ type: 'closeConnection', payload: bad })
    t.match((await client.expect('error')).error, { code: 'INTERNAL', tag: 'closeConnection' })
  }
  t.equal(app.logs.filter((l) => (l.err as { code?: string })?.code === 'FST_PACHINKO_CLOSE_CODE_INVALID').length, 8)
  client.send({ type: 'closeConnection', payload: 4005 })
  t.same(await client.closed, { code: 4005, reason: 'by connection' })
  await until(() => app.ws.size === 0)
})

t.test('app.ws.disconnect and disconnectUser throw at the call site for an invalid code, and close nothing', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/c', Closer)
  const client = await connect(app, '/c')
  client.send({ type: 'whoami' })
  const id = (await client.expect('id')).payload as string
  await app.ws.identify(id, 'ann')
  for (const bad of INVALID) {
    t.throws(() => { void app.ws.disconnect(id, bad as number) }, code)
    t.throws(() => { void app.ws.disconnectUser('ann', bad as number) }, code)
  }
  const [ref] = await collect(app.ws.connections({ user: 'ann' }))
  await t.rejects(ref.close(1006), code)
  t.equal(app.ws.size, 1)
  await app.ws.disconnect(id, 4010, 'fine')
  t.same(await client.closed, { code: 4010, reason: 'fine' })
  await until(() => app.ws.size === 0)
})

t.test('a hook that refuses with an invalid code fails its beforeConnect: refused with 1008', async (t) => {
  const app = await build(t, { hooks: { beforeConnect: (ctx) => ctx.refuse(1004) } })
  app.addWebSocketRoute('/c', Closer)
  const client = await connect(app, '/c')
  t.equal((await client.closed).code, 1008)
  await until(() => app.ws.size === 0)
})

t.test('a remote node that asks for an invalid close code gets a 1011 close and a warning, not a throw', async (t) => {
  const bus = createBus()
  const a = await build(t, { backend: bus.backend() })
  const b = await build(t, { backend: bus.backend() })
  for (const app of [a, b]) app.addWebSocketRoute('/c', Closer)
  const client = await connect(b, '/c')
  client.send({ type: 'whoami' })
  const id = (await client.expect('id')).payload as string
  await b.ws.identify(id, 'bob')
  t.throws(() => { void a.ws.disconnect(id, 999) }, code, 'this node checks before sending')
  // an older node does not check: its envelope reaches b as it is
  const transport = (a.ws[kBackend] as unknown as { transport: ClusterTransport }).transport
  await transport.publish(`node:${b.ws.nodeId}`, seal({ n: a.ws.nodeId, op: 'close', id, c: 999, r: 'old node' }))
  t.same(await client.closed, { code: 1011, reason: 'old node' })
  t.ok(b.logs.some((l) => l.level === 40 && /invalid close code/.test(l.msg)))
  const other = await connect(b, '/c')
  other.send({ type: 'whoami' })
  const otherId = (await other.expect('id')).payload as string
  await b.ws.identify(otherId, 'bob')
  await transport.publish('user:bob', seal({ n: a.ws.nodeId, op: 'close', c: 'x' as unknown as number }))
  t.equal((await other.closed).code, 1011)
})

t.test('ends without an unhandled rejection', async (t) => {
  await new Promise((resolve) => setImmediate(resolve))
  t.same(rejections, [])
})

async function collect<T> (iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}
