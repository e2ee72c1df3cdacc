import 'reflect-metadata'
import { Socket } from 'phoenix'
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import { Channel, redisBackend, type Backend } from '../lib/index.js'
import { createBus } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'
import { listen, rawClient, type RawClient } from './helpers/phoenix.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'

class Room extends Channel<{ id: string }, Record<string, unknown>, { user: string }> {
  override onJoin () {
    this.presence.track(this.assigns.user ?? 'someone')
    return { hello: 1 }
  }
}

/** The frames a raw client got before the reply to its join `ref`, and the reply. */
async function beforeReply (client: RawClient, ref: string): Promise<{ before: any[], reply: any }> {
  const isReply = (f: any): boolean => f[1] === ref && f[3] === 'phx_reply'
  await until(() => client.frames.some(isReply))
  const index = client.frames.findIndex(isReply)
  return { before: client.frames.slice(0, index), reply: client.frames[index] }
}

async function node (t: Test, backend?: Backend, size = 100) {
  const app = await build(t, backend === undefined ? {} : { backend })
  const hub = app.addWebSocketHub('/socket', { connect: (params) => ({ user: params.user }) })
  hub.channel('room:{id}', Room, { history: { size, ttlMs: 60_000 }, presence: { intervalMs: 0 } })
  hub.channel('plain:{id}', Room, { presence: true })
  return { app, hub, url: await listen(app) }
}

t.test('broadcasts to a topic with history carry offset and epoch; a join with since gets what it missed before its reply', async (t) => {
  const { hub, url } = await node(t)
  const first = await rawClient(t, url)
  first.send(['1', '1', 'room:1', 'phx_join', {}])
  t.same((await first.reply('1'))[4], { status: 'ok', response: { hello: 1 } }, 'a join without since is a plain join')
  for (let i = 1; i <= 3; i++) await hub.broadcast('room:1', 'msg', { i })
  const got = [await first.take((f) => f[3] === 'msg'), await first.take((f) => f[3] === 'msg'), await first.take((f) => f[3] === 'msg')]
  const epoch = got[0][4].epoch
  t.type(epoch, 'string')
  t.same(got.map((f) => f[4]), [1, 2, 3].map((i) => ({ i, offset: i, epoch })))
  t.same(got[0].slice(0, 4), [null, null, 'room:1', 'msg'], 'still a broadcast frame')

  const second = await rawClient(t, url)
  second.send(['1', '1', 'room:1', 'phx_join', { since: { offset: 1, epoch } }])
  const { before, reply } = await beforeReply(second, '1')
  t.same(reply[4], { status: 'ok', response: { hello: 1, recovered: true, position: { offset: 3, epoch } } })
  t.same(before, [[null, null, 'room:1', 'msg', { i: 2, offset: 2, epoch }], [null, null, 'room:1', 'msg', { i: 3, offset: 3, epoch }]], 'the two it missed, before the reply')
  const current = await rawClient(t, url)
  current.send(['1', '1', 'room:1', 'phx_join', { since: { offset: 3, epoch } }])
  const upToDate = await beforeReply(current, '1')
  t.same(upToDate.before, [], 'nothing missed, nothing replayed')
  t.equal(upToDate.reply[4].response.recovered, true)
  const v1 = await rawClient(t, url, 'vsn=1.0.0')
  v1.send({ topic: 'room:1', event: 'phx_join', payload: {}, ref: 'j', join_ref: 'j' })
  await v1.reply('j')
  await hub.broadcast('room:1', 'msg', { i: 4 })
  t.same((await v1.take((f) => f.event === 'msg')).payload, { i: 4, offset: 4, epoch }, 'a V1 subscriber gets it too')
  t.same((await first.take((f) => f[3] === 'msg'))[4], { i: 4, offset: 4, epoch })
})

t.test('the missed messages arrive in order before the join reply; presence diffs are never replayed', async (t) => {
  const { hub, url } = await node(t)
  await hub.broadcast('room:2', 'msg', { i: 0 })
  const probe = await rawClient(t, url)
  probe.send(['1', '1', 'room:2', 'phx_join', { since: { offset: 0, epoch: 'x' } }])
  const { epoch } = (await probe.reply('1'))[4].response.position
  for (let i = 1; i <= 20; i++) await hub.broadcast('room:2', 'msg', { i })
  const late = await rawClient(t, url)
  late.send(['1', '1', 'room:2', 'phx_join', { since: { offset: 1, epoch } }])
  const events = (await beforeReply(late, '1')).before
  t.same(events.filter((f: any) => f[3] === 'msg').map((f: any) => f[4].i), Array.from({ length: 20 }, (_, i) => i + 1), 'all 20, in order')
  t.notOk(events.some((f: any) => f[3] === 'presence_diff'), 'no presence diff in the history')
})

t.test('recovered: false after an overflow, for another epoch, and for a since that is not a position', async (t) => {
  const { hub, url } = await node(t, undefined, 5)
  const probe = await rawClient(t, url)
  probe.send(['1', '1', 'room:3', 'phx_join', { since: null }])
  const start = (await probe.reply('1'))[4].response
  t.equal(start.recovered, false)
  for (let i = 1; i <= 10; i++) await hub.broadcast('room:3', 'msg', { i })
  for (const since of [{ offset: 1, epoch: start.position.epoch }, { offset: 9, epoch: 'other' }, 'junk', { offset: -1, epoch: 'x' }]) {
    const client = await rawClient(t, url)
    client.send(['1', '1', 'room:3', 'phx_join', { since }])
    const reply = await client.reply('1')
    t.equal(reply[4].response.recovered, false, JSON.stringify(since))
    t.notOk(client.frames.some((f: any) => f[3] === 'msg'), 'nothing replayed')
  }
})

t.test('a wrapped frame that is not one is dropped; topics no channel serves keep no history', async (t) => {
  const { unwrap } = await import('../lib/hub/history/history-frame.js')
  t.equal(unwrap(Buffer.from('{"\\u0000hub":[1,2')), undefined)
  t.equal(unwrap(Buffer.from('{"\\u0000hub":[1,2,3],"offset":1}')), undefined)
  t.equal(unwrap(Buffer.from('{"\\u0000hub":{},"offset":1}')), undefined)
  const { app, hub, url } = await node(t)
  const client = await rawClient(t, url)
  client.send(['1', '1', 'room:5', 'phx_join', {}])
  await client.reply('1')
  await app.ws.broadcastToAll({ '\u0000hub': 'not a frame' })
  await hub.broadcast('unserved:1', 'msg', {})
  await hub.broadcast('room:5', 'msg', { last: true })
  t.same((await client.take((f) => f[3] === 'msg'))[4].last, true)
  t.notOk(client.frames.some((f: any) => !Array.isArray(f)), 'nothing but hub frames reached the hub socket')
})

t.test('history options are checked at declaration; a backend without history refuses them', async (t) => {
  const app = await build(t)
  const hub = app.addWebSocketHub('/socket')
  for (const history of [null, 1, [], { size: 0, ttlMs: 1 }, { size: 1.5, ttlMs: 1 }, { size: 1, ttlMs: 0 }, { size: 1, ttlMs: 'x' }, { size: 1e6, ttlMs: 1 }]) {
    t.throws(() => hub.channel(`t${String(Math.random())}`, Room, { history } as never), { code: 'FST_PACHINKO_OPTION_INVALID' }, JSON.stringify(history))
  }
  await hub.broadcast('nothing:here', 'x', {})
  const bus = createBus()
  const other = await build(t, { backend: bus.backend() })
  t.throws(() => other.addWebSocketHub('/socket').channel('room:{id}', Room, { history: { size: 1, ttlMs: 1 } }), { code: 'FST_PACHINKO_HISTORY_UNSUPPORTED' })
})

/** The official client, remembering the last position it saw and sending it on every (re)join. */
function resumingClient (t: Test, url: string) {
  const socket = new Socket(url, { transport: WebSocket as never, reconnectAfterMs: () => 20, rejoinAfterMs: () => 20, params: { user: 'ada' } })
  t.teardown(() => socket.disconnect())
  return socket
}

t.test('over Redis, a client cut off while 50 messages are broadcast rejoins on the other node and gets all 50 in order; after an overflow, recovered: false', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('hub-history')
  const a = await node(t, redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 100 }), 60)
  const b = await node(t, redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 100 }), 60)
  let since: { offset: number, epoch: string } | null = null
  const seen: number[] = []
  const joinOn = async (url: string) => {
    const socket = resumingClient(t, url)
    socket.connect()
    const channel = socket.channel('room:9', () => ({ since }))
    channel.on('msg', (payload: { i: number, offset: number, epoch: string }) => {
      seen.push(payload.i)
      since = { offset: payload.offset, epoch: payload.epoch }
    })
    const response = await new Promise<any>((resolve) => channel.join().receive('ok', resolve))
    return { socket, response, seenAtReply: [...seen] }
  }
  const onA = await joinOn(a.url)
  await a.hub.broadcast('room:9', 'msg', { i: 0 })
  while (seen.length < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  onA.socket.disconnect()
  for (let i = 1; i <= 50; i++) await a.hub.broadcast('room:9', 'msg', { i })
  const onB = await joinOn(b.url)
  t.same(onB.seenAtReply, Array.from({ length: 51 }, (_, i) => i), 'all 50 missed, in order, before the join reply')
  t.equal(onB.response.recovered, true)
  onB.socket.disconnect()
  for (let i = 51; i <= 150; i++) await b.hub.broadcast('room:9', 'msg', { i })
  const again = await joinOn(a.url)
  t.equal(again.response.recovered, false, 'more than the history keeps: the app refetches')
  t.equal(again.seenAtReply.length, 51, 'nothing replayed')
})
