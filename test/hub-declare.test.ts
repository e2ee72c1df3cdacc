import 'reflect-metadata'
import t from 'tap'
import { Type } from 'typebox'
import { Channel, ClientError, handlesEvent, MemoryBackend, WebSocketHub } from '../lib/index.js'
import { compilePattern, TopicRouter } from '../lib/hub/topic-pattern.js'
import { decodeBinaryHeader, decodeText, versionOf } from '../lib/hub/codec.js'
import { connectParams } from '../lib/hub/connect-params.js'
import { IdleSweep } from '../lib/hub/idle-sweep.js'
import { connectHub, HubReplyError } from '../lib/testing/index.js'
import { build } from './helpers/build.js'
import { listen, rawClient } from './helpers/phoenix.js'

class Plain extends Channel {}

t.test('topic patterns: literal beats parameter beats wildcard; bad and duplicate patterns throw', async (t) => {
  const router = new TopicRouter<string>()
  for (const p of ['room:*', 'room:{id}', 'room:lobby', 'a:{x}', 'b:{x}', 'user:{id}/inbox']) router.add(p, p)
  t.same(router.find('room:lobby'), { value: 'room:lobby', params: {} })
  t.same(router.find('room:42'), { value: 'room:{id}', params: { id: '42' } })
  t.same(router.find('room:4:2'), { value: 'room:*', params: { '*': '4:2' } })
  t.same(router.find('user:7/inbox'), { value: 'user:{id}/inbox', params: { id: '7' } })
  t.same(router.find('b:1'), { value: 'b:{x}', params: { x: '1' } })
  t.equal(router.find('nope'), undefined)
  t.throws(() => router.add('room:{name}', 'x'), { code: 'FST_PACHINKO_HUB_PATTERN_INVALID', message: /same topics as "room:\{id\}"/ })
  for (const bad of ['', 'phoenix', 'phoenix:x', '*:x', 'room:{id}{x}', 'room:a*', '{a}:{a}', 7 as never]) {
    t.throws(() => compilePattern(bad, null), { code: 'FST_PACHINKO_HUB_PATTERN_INVALID' }, String(bad))
  }
})

t.test('hub declarations check their arguments', async (t) => {
  const app = await build(t)
  const hub = app.addWebSocketHub('/socket')
  t.throws(() => hub.channel('x', class NotChannel {} as never), { code: 'FST_PACHINKO_HUB_NOT_CHANNEL', message: /class NotChannel/ })
  t.throws(() => hub.channel('x', 'nope' as never), { code: 'FST_PACHINKO_HUB_NOT_CHANNEL', message: /string/ })
  t.throws(() => hub.channel('x', Plain, null as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => hub.channel('x', Plain, { args: 'a' as never }), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => hub.include({} as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => hub.include(new WebSocketHub(), { prefix: 1 as never }), { code: 'FST_PACHINKO_OPTION_INVALID' })
  hub.include(new WebSocketHub())
  for (const path of ['', 'socket', 1]) t.throws(() => app.addWebSocketHub(path as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => app.addWebSocketHub('/a', { connect: 1 as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /connect/ })
  t.throws(() => app.addWebSocketHub('/a', { beforeJoin: [1 as never] }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /beforeJoin/ })
  t.throws(() => app.addWebSocketHub('/a', { maxChannels: 0 }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /maxChannels/ })
  t.throws(() => app.addWebSocketHub('/a', { idleTimeoutMs: -1 }), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => app.addWebSocketHub('/a', { maxTopicLength: 1.5 }), { code: 'FST_PACHINKO_OPTION_INVALID' })
  await t.rejects(hub.broadcast('', 'e'), { code: 'FST_PACHINKO_OPTION_INVALID' })
  await t.rejects(hub.broadcast('t', ''), { code: 'FST_PACHINKO_OPTION_INVALID' })
  await t.rejects(hub.broadcast('t', 'e', null as never), { code: 'FST_PACHINKO_HUB_NOT_SERIALIZABLE', message: /null/ })
  await t.rejects(hub.broadcast('t', 'e', [] as never), { code: 'FST_PACHINKO_HUB_NOT_SERIALIZABLE', message: /an array/ })
  const circular: Record<string, unknown> = {}
  circular.self = circular
  await t.rejects(hub.broadcast('t', 'e', circular), { code: 'FST_PACHINKO_HUB_NOT_SERIALIZABLE' })
  await hub.broadcast('t', 'e')
})

t.test('@handlesEvent: reserved and empty events, options, duplicates, non-methods, overrides', async (t) => {
  t.throws(() => handlesEvent(''), { code: 'FST_PACHINKO_HUB_EVENT_INVALID' })
  t.throws(() => handlesEvent(3 as never), { code: 'FST_PACHINKO_HUB_EVENT_INVALID' })
  t.throws(() => handlesEvent('phx_join'), { code: 'FST_PACHINKO_HUB_EVENT_INVALID', message: /reserved/ })
  t.throws(() => handlesEvent('chan_reply_1'), { code: 'FST_PACHINKO_HUB_EVENT_INVALID' })
  class Twice extends Channel {
    @handlesEvent('a') one () {}
    @handlesEvent('a') two () {}
  }
  class Field extends Channel {}
  handlesEvent('f')(Field.prototype, 'missing', {})
  class Base extends Channel {
    @handlesEvent('hello', Type.Object({ name: Type.String() })) hello () { return { from: 'base' } }
    @handlesEvent('kept') kept () { return { kept: true } }
  }
  class Derived extends Base {
    @handlesEvent('hello', { strict: false }) override hello () { return { from: 'derived' } }
  }
  const app = await build(t)
  const hub = app.addWebSocketHub('/socket')
  t.throws(() => hub.channel('t', Twice), { code: 'FST_PACHINKO_HUB_EVENT_INVALID', message: /bound twice/ })
  t.throws(() => hub.channel('f', Field), { code: 'FST_PACHINKO_HUB_EVENT_INVALID', message: /not a method/ })
  hub.channel('d', Derived)
  const s = await connectHub(app, '/socket', { t })
  const d = await s.join('d')
  t.same(await d.push('hello', { anything: 1 }), { from: 'derived' })
  t.same(await d.push('kept'), { kept: true })
})

t.test('channel members: connection, request, app, ws, state, hub; pushes need objects', async (t) => {
  class Members extends Channel<Record<string, string>, { n?: number }> {
    @handlesEvent('look')
    look () {
      this.state = { n: 5 }
      return { id: this.connection.id === this.request.id ? 'same' : typeof this.connection.id, app: this.app === this.request.server && this.ws.get(this.connection.id) === this.connection ? 'ok' : 'x', n: this.state.n }
    }

    @handlesEvent('circular')
    circular () {
      const value: Record<string, unknown> = {}
      value.self = value
      this.push('x', value)
    }

    @handlesEvent('other')
    async other () { await this.hub.broadcast('members:2', 'note', {}) }
  }
  const app = await build(t)
  app.addWebSocketHub('/socket').channel('members:{n}', Members)
  const s = await connectHub(app, '/socket', { t })
  const m = await s.join('members:1')
  const other = await s.join('members:2')
  t.same(await m.push('look'), { id: 'string', app: 'ok', n: 5 })
  const err = await m.push('circular').catch((e: HubReplyError) => e.response)
  t.same(err, { reason: 'internal' })
  await m.push('other')
  t.same(await other.expect('note'), {})
})

t.test('frames without a ref get no reply; V1 pushes; hooks of other events leave events alone', async (t) => {
  class Echo extends Channel {
    @handlesEvent('echo') echo (payload: object) { return payload }
    @handlesEvent('fail') fail () { throw new ClientError('NO', 'no') }
  }
  const app = await build(t, { hooks: { beforeConnect: () => {} } })
  app.addWebSocketHub('/socket', { connect: () => true }).channel('e', Echo)
  const url = await listen(app)
  const v1 = await rawClient(t, url, 'vsn=1.0.0')
  v1.send({ topic: 'e', event: 'phx_join', ref: 'j' })
  await v1.reply('j')
  v1.send({ topic: 'e', event: 'echo', payload: { a: 1 } })
  v1.send({ topic: 'e', event: 'fail' })
  v1.send({ topic: 'e', event: 'e'.repeat(200), ref: 'long' })
  t.match((await v1.reply('long')).payload.response.reason, /^no handler for "e{100}\.\.\."$/)
  t.equal(v1.frames.length, 0, 'no replies to pushes without a ref')
  const bare = await rawClient(t, url, '')
  bare.send({ topic: 'e', event: 'phx_join', ref: 1, join_ref: 1 })
  t.equal((await bare.reply(1)).payload.status, 'ok')
  // app.ws frames that look like arrays are still not hub frames: a V1 socket drops what it cannot re-encode
  await app.ws.broadcastToAll([1, 2, 3])
  bare.send({ topic: 'phoenix', event: 'heartbeat', ref: 2 })
  await bare.reply(2)
  t.equal(bare.frames.length, 0)
})

t.test('codec and params edge cases', async (t) => {
  t.equal(versionOf('3.0.0'), undefined)
  t.same(decodeText('\uFEFF[null,"1","t","e",{}]', 2, 'error'), { joinRef: null, ref: '1', topic: 't', event: 'e', payload: {} })
  t.same(decodeText('[null,"1","t","e",{"__proto__":{"x":1},"a":1}]', 2, 'remove'), { joinRef: null, ref: '1', topic: 't', event: 'e', payload: { a: 1 } })
  t.same(decodeText('{"topic":"t","event":"e","payload":{"constructor":{"prototype":{}}},"ref":"1"}', 1, 'remove'), { joinRef: null, ref: '1', topic: 't', event: 'e', payload: {} })
  t.match(decodeText('[null,"1","t","e",{"__proto__":{}}]', 2, 'ignore'), { topic: 't' })
  t.same(decodeText('[null,"1",7,"e",{}]', 2, 'error'), { reason: 'topic must be a non-empty string' })
  t.same(decodeText('[]', 1, 'error'), { reason: 'a frame must be a JSON object { topic, event, payload, ref }' })
  t.same(decodeBinaryHeader(Buffer.from([0, 0, 1, 0, 1, 0x31, 0x65])), { reason: 'binary payloads are not supported; send a JSON object' })
  t.same(decodeBinaryHeader(Buffer.from([0, 0, 1, 1, 9, 0x31, 0x74])), { reason: 'binary payloads are not supported; send a JSON object' })
  t.same(decodeBinaryHeader(Buffer.from([0, 0, 1, 1, 1, 0x31, 0x74, 0x65])), { reason: 'binary payloads are not supported; send a JSON object', joinRef: null, ref: '1', topic: 't' })
  t.same(connectParams('/socket'), {})
  t.same(connectParams('/socket?=1&__proto__=2&a=1&a[b]=2&c[d]=3&c[e]=4&x[a][b][c][d][e][f][g][h]=deep'), { a: { b: '2' }, c: { d: '3', e: '4' } })
})

t.test('the idle sweep: off with 0, stops when no socket is left', async (t) => {
  const sockets = new Set<{ lastSeen: number, timedOut: () => void }>()
  const off = new IdleSweep(sockets, 0)
  off.start()
  let closed = 0
  const sweep = new IdleSweep(sockets, 100)
  sockets.add({ lastSeen: 0, timedOut: () => { closed++ } })
  sweep.start()
  sweep.start()
  sweep.sweep(50)
  t.equal(closed, 0)
  sweep.sweep(1000)
  t.equal(closed, 1)
  sockets.clear()
  sweep.sweep(2000)
  sweep.stop()
})

t.test('a hub under a prefix; a socket closing while a join runs ends the channel; backend failures are logged', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const left: string[] = []
  class Slow extends Channel {
    override async onJoin () { await gate; return {} }
    override onLeave (reason: string) { left.push(reason) }
  }
  class FailingBackend extends MemoryBackend {
    override async leave (): Promise<void> { throw new Error('redis down') }
    override async remove (): Promise<void> { throw new Error('redis down') }
  }
  const app = await build(t, { backend: new FailingBackend() })
  await app.register(async (scoped) => {
    scoped.addWebSocketHub('/', { idleTimeoutMs: 0 }).channel('slow', Slow).channel('fast', Plain)
  }, { prefix: '/hub' })
  const s = await connectHub(app, '/hub/', { t })
  const fast = await s.join('fast')
  await fast.leave()
  t.match(app.logs.find((l) => l.level === 50), { msg: 'backend failed to unsubscribe a channel', err: { message: 'redis down' } })
  const joining = s.join('slow').catch(() => 'closed')
  await new Promise((resolve) => setImmediate(resolve))
  await s.close()
  release()
  t.equal(await joining, 'closed')
  await app.ws.whenEmpty(1000)
  t.same(left, ['disconnect'])
  t.ok(app.logs.some((l) => l.level === 50 && l.msg === 'backend failed to unregister the connection'))
})
