import 'reflect-metadata'
import { EventEmitter, once } from 'node:events'
import t from 'tap'
import { WebSocket } from 'ws'
import { Channel, handlesEvent, WebSocketHub } from '../lib/index.js'
import { build } from './helpers/build.js'
import { join, listen, phoenix, push, rawClient } from './helpers/phoenix.js'

const joins = new EventEmitter()

class Room extends Channel<{ id: string }> {
  override onJoin () {
    joins.emit('join', this.topic)
    return { assigns: this.assigns }
  }

  @handlesEvent('ping')
  ping () { return { pong: this.params.id } }
}

t.test('heartbeats keep a socket open over many idle timeouts', async (t) => {
  const app = await build(t)
  app.addWebSocketHub('/socket', { idleTimeoutMs: 120 }).channel('room:{id}', Room)
  const url = await listen(app)
  const socket = phoenix(t, url, { heartbeatIntervalMs: 30 })
  let closes = 0
  socket.onClose(() => { closes++ })
  let beats = 0
  const enough = new Promise<void>((resolve) => socket.onMessage((message: any) => {
    if (message.topic === 'phoenix' && message.event === 'phx_reply' && (message.payload as { status: string }).status === 'ok' && ++beats === 12) resolve()
  }))
  await join(socket.channel('room:1'))
  await enough
  t.equal(closes, 0, 'never closed')
  t.ok(socket.isConnected())
})

t.test('a heartbeat is answered on topic phoenix, joined or not; other phoenix events are unmatched', async (t) => {
  const app = await build(t)
  app.addWebSocketHub('/socket').channel('room:{id}', Room)
  const client = await rawClient(t, await listen(app))
  client.send([null, '1', 'phoenix', 'heartbeat', {}])
  t.same(await client.reply('1'), [null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }])
  client.send([null, '2', 'phoenix', 'phx_join', {}])
  t.same(await client.reply('2'), [null, '2', 'phoenix', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }])
})

t.test('a silent socket is closed with 1001 after the idle timeout, by one sweep', async (t) => {
  const app = await build(t)
  app.addWebSocketHub('/socket', { idleTimeoutMs: 60 }).channel('room:{id}', Room)
  const client = await rawClient(t, await listen(app))
  t.same(await client.closed, { code: 1001, reason: 'idle timeout' })
  await app.ws.whenEmpty(1000)
  t.equal(app.ws.size, 0)
})

t.test('after a server restart the client reconnects and rejoins; the shutdown close is 1001, never 1000', async (t) => {
  const first = await build(t)
  first.addWebSocketHub('/socket').channel('room:{id}', Room)
  const url = await listen(first)
  const port = Number(new URL(url).port)
  const socket = phoenix(t, url)
  const codes: number[] = []
  socket.onClose((event) => { codes.push(event.code) })
  const room = socket.channel('room:9')
  t.equal((await join(room)).status, 'ok')
  await first.close()
  t.same(codes, [1001])

  const second = await build(t)
  second.addWebSocketHub('/socket').channel('room:{id}', Room)
  const rejoined = once(joins, 'join')
  await listen(second, '/socket', port)
  t.same(await rejoined, ['room:9'])
  t.same(await push(room, 'ping'), { status: 'ok', response: { pong: '9' } })
  t.equal(second.ws.size, 1)
})

t.test('connect decides before the upgrade: false is HTTP 403, an object is the socket\'s assigns; params nest', async (t) => {
  const app = await build(t)
  const seen: unknown[] = []
  app.addWebSocketHub('/socket', {
    connect: (params) => {
      seen.push(params)
      if (params.token === 'bad') return false
      if (params.token === 'none') return undefined as never
      return params.token === 'plain' ? true : { user: params.user }
    }
  }).channel('room:{id}', Room)
  const url = await listen(app)
  const refused = await upgradeStatus(`${url}/websocket?vsn=2.0.0&token=bad`)
  t.equal(refused, 403)
  t.equal(await upgradeStatus(`${url}/websocket?vsn=2.0.0&token=none`), 403, 'a forgotten return refuses')
  const socket = phoenix(t, url, { params: { token: 'ok', user: { id: '7', tags: { a: 'b' } } } })
  t.same(await join(socket.channel('room:1')), { status: 'ok', response: { assigns: { user: { id: '7', tags: { a: 'b' } } } } })
  t.same(seen.at(-1), { token: 'ok', user: { id: '7', tags: { a: 'b' } } })
  const plain = phoenix(t, url, { params: { token: 'plain' } })
  t.same(await join(plain.channel('room:1')), { status: 'ok', response: { assigns: {} } })
  await upgradeStatus(`${url}/websocket?vsn=2.0.0&token=x&__proto__[polluted]=1&a[constructor]=2&[x]=3&b[]=4`)
  t.same(seen.at(-1), { token: 'x', '[x]': '3' }, 'prototype keys and empty segments are dropped')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
})

t.test('an unknown vsn is HTTP 403; no vsn is V1', async (t) => {
  const app = await build(t)
  app.addWebSocketHub('/socket').channel('room:{id}', Room)
  const url = await listen(app)
  t.equal(await upgradeStatus(`${url}/websocket?vsn=3.0.0`), 403)
  t.equal(await upgradeStatus(`${url}?vsn=2.0.0`), 101, 'the bare path answers too')
  const v1 = await rawClient(t, url, '')
  v1.send({ topic: 'room:5', event: 'phx_join', payload: {}, ref: 1, join_ref: 1 })
  t.same(await v1.reply(1), { topic: 'room:5', event: 'phx_reply', payload: { status: 'ok', response: { assigns: {} } }, ref: 1 })
  v1.send({ topic: 'room:5', event: 'ping', ref: '2' })
  t.same(await v1.reply('2'), { topic: 'room:5', event: 'phx_reply', payload: { status: 'ok', response: { pong: '5' } }, ref: '2' })
})

t.test('a V1 and a V2 subscriber get the same broadcast, each in its own format', async (t) => {
  const app = await build(t)
  const hub = app.addWebSocketHub('/socket')
  hub.channel('room:{id}', Room)
  const url = await listen(app)
  const v1 = await rawClient(t, url, 'vsn=1.0.0')
  const v2 = await rawClient(t, url)
  v1.send({ topic: 'room:1', event: 'phx_join', payload: {}, ref: 'j', join_ref: 'j' })
  v2.send(['j', 'j', 'room:1', 'phx_join', {}])
  await v1.reply('j')
  await v2.reply('j')
  // resource-protocol frames (app.ws.broadcastToAll) are not for Phoenix clients: they are not written to hub sockets
  await app.ws.broadcastToAll({ type: 'hello' })
  await hub.broadcast('room:1', 'news', { n: 1 })
  t.same(await v1.take((f) => f.event === 'news'), { topic: 'room:1', event: 'news', payload: { n: 1 }, ref: null })
  t.same(await v2.take((f) => f[3] === 'news'), [null, null, 'room:1', 'news', { n: 1 }])
  t.equal(v1.frames.length + v2.frames.length, 0, 'nothing else arrived')
})

t.test('a second join of a joined topic: the new reply first, then phx_close with the old join_ref', async (t) => {
  const app = await build(t)
  app.addWebSocketHub('/socket').channel('room:{id}', Room)
  const client = await rawClient(t, await listen(app))
  client.send(['1', '1', 'room:1', 'phx_join', {}])
  await client.reply('1')
  client.send(['2', '2', 'room:1', 'phx_join', {}])
  t.same(await client.take(() => true), ['2', '2', 'room:1', 'phx_reply', { status: 'ok', response: { assigns: {} } }])
  t.same(await client.take(() => true), ['1', '1', 'room:1', 'phx_close', {}])
  client.send(['1', '3', 'room:1', 'ping', {}])
  client.send(['1', '4', 'room:1', 'phx_leave', {}])
  client.send(['2', '5', 'room:1', 'ping', {}])
  t.same(await client.take(() => true), ['2', '5', 'room:1', 'phx_reply', { status: 'ok', response: { pong: '1' } }], 'stale join_refs are ignored')
  client.send([null, '6', 'room:1', 'phx_leave', {}])
  t.same(await client.take(() => true), ['2', '6', 'room:1', 'phx_reply', { status: 'ok', response: {} }])
  t.same(await client.take(() => true), ['2', '2', 'room:1', 'phx_close', {}])
  client.send([null, '7', 'room:1', 'phx_leave', {}])
  t.same(await client.take(() => true), [null, '7', 'room:1', 'phx_reply', { status: 'ok', response: {} }], 'leaving a topic not joined is ok')
  client.send([null, '8', 'room:1', 'ping', {}])
  t.same(await client.take(() => true), [null, '8', 'room:1', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }])
})

t.test('hub.include serves another hub\'s channels under a prefix, and its broadcasts reach them', async (t) => {
  class Admin extends Channel {
    override onJoin () { return { admin: this.topic, params: this.params } }
  }
  const app = await build(t)
  const admin = new WebSocketHub()
  admin.channel('stats:{name}', Admin)
  await t.rejects(admin.broadcast('stats:x', 'e'), { code: 'FST_PACHINKO_HUB_NOT_SERVED' })
  const hub = app.addWebSocketHub('/socket')
  hub.channel('room:{id}', Room)
  hub.include(admin, { prefix: 'admin:' })
  admin.channel('logs:*', Admin)
  t.same(hub.patterns, ['admin:stats:{name}', 'admin:logs:*', 'room:{id}'])
  t.throws(() => admin.include(hub), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => hub.include(hub), { code: 'FST_PACHINKO_OPTION_INVALID' })
  const socket = phoenix(t, await listen(app))
  const stats = socket.channel('admin:stats:cpu')
  t.same(await join(stats), { status: 'ok', response: { admin: 'admin:stats:cpu', params: { name: 'cpu' } } })
  t.same(await join(socket.channel('admin:logs:a/b')), { status: 'ok', response: { admin: 'admin:logs:a/b', params: { '*': 'a/b' } } })
  const news = new Promise((resolve) => stats.on('news', resolve))
  await admin.broadcast('stats:cpu', 'news', { load: 1 })
  t.same(await news, { load: 1 })
})

async function upgradeStatus (url: string): Promise<number> {
  return await new Promise((resolve) => {
    const ws = new WebSocket(url)
    ws.on('upgrade', () => { resolve(101); ws.terminate() })
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.on('error', () => {})
  })
}
