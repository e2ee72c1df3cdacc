import 'reflect-metadata'
import { Redis } from 'ioredis'
import t from 'tap'
import { WebSocketResource } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { MemoryHistory } from '../lib/history/memory-history.js'
import { Recoveries } from '../lib/history/recoveries.js'
import { RoomHistory } from '../lib/history/room-history.js'
import { SyncMarkers } from '../lib/history/sync-markers.js'
import { defineHistoryCommands, RedisHistory, type HistoryClient } from '../lib/backends/redis-history.js'
import { build } from './helpers/build.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'

const limits = { size: 10, ttlMs: 60_000 }
const head = (n: number) => ({ head: `{"n":${n}`, separator: ',' })

t.test('recoveries hold a room\'s frames only for its recovering members, and not for those a broadcast excludes', async (t) => {
  const recoveries = new Recoveries()
  const frame = Buffer.from('{}')
  t.same(recoveries.intercept('r', frame, { offset: 1 }), { offset: 1 }, 'no recovery: the delivery is unchanged')
  const held = recoveries.hold('r', { id: 'a' })
  const other = recoveries.hold('r', { id: 'b' })
  t.equal(recoveries.intercept('elsewhere', frame, {} as { exclude?: ReadonlySet<string> }).exclude, undefined, 'another room is untouched')
  const delivery = recoveries.intercept('r', frame, { exclude: new Set(['b']), offset: 7 })
  t.same([...delivery.exclude!].sort(), ['a', 'b'], 'the recovering member is left out of the live delivery')
  t.same(held, [{ frame, offset: 7 }], 'and its frame held')
  t.same(other, [], 'an excluded member gets nothing held either')
  recoveries.release('r', { id: 'a' })
  t.equal(recoveries.size, 1)
  recoveries.release('r', { id: 'b' })
  t.equal(recoveries.size, 0)
})

t.test('a join that fails during a recovery stops holding and rejects; a held frame without an offset is always delivered', async (t) => {
  const store = new MemoryHistory()
  const recoveries = new Recoveries()
  const written: string[] = []
  const history = new RoomHistory<{ id: string }>({
    store,
    recoveries,
    deliverToRoom: () => undefined,
    write: (_, frame) => { written.push(frame.toString()) },
    relay: () => undefined,
    marker: () => undefined
  })
  await t.rejects(history.recover({ id: 'a' }, 'r', null, limits, async () => { throw new Error('store down') }), { message: 'store down' })
  t.equal(recoveries.size, 0, 'nothing left held')
  const recovery = await history.recover({ id: 'a' }, 'r', null, limits, async () => {
    recoveries.intercept('r', Buffer.from('{"from":"a node without history"}'), {})
  })
  t.same(written, ['{"from":"a node without history"}'])
  t.equal(recovery.recovered, false)
})

t.test('a sync marker resolves when it comes back, or after its timeout when it never does', async (t) => {
  const markers = new SyncMarkers(20)
  const marker = markers.open('room:x', '{"n":"node"')
  t.match(marker.relay, { channel: 'room:x', header: /^\{"n":"node","op":"sync","q":"[\w-]+"$/ })
  const id = JSON.parse(marker.relay.header + '}').q
  markers.arrived(42)
  markers.arrived('unknown')
  markers.arrived(id)
  await marker.arrived
  const lost = markers.open('room:x', '{"n":"node"')
  // the marker's timer is unref()ed: this one keeps the test process alive meanwhile
  const alive = setTimeout(() => {}, 5000)
  await lost.arrived
  clearTimeout(alive)
  t.pass('a marker that never arrives gives up')
})

t.test('replayed messages go through the backpressure policy: a slow consumer under "wait" that times out is logged at debug', async (t) => {
  const app = await build(t, { backpressure: { policy: 'wait', highWaterMark: 1, sendTimeoutMs: 1 } })
  app.ws.keepHistory('r', { size: 100, ttlMs: 60_000 })
  app.addWebSocketRoute('/ws', class extends WebSocketResource {})
  const client = await connect(app, '/ws')
  const connection = [...app.ws.local()][0]
  const { position } = await app.ws.joinRoom(connection, 'r', { since: null })
  await app.ws.leaveRoom(connection, 'r')
  for (let i = 0; i < 50; i++) await app.ws.broadcastToRoom('r', { type: 'news', payload: 'x'.repeat(1000) })
  client.socket.pause()
  const recovery = await app.ws.joinRoom(connection, 'r', { since: position })
  t.equal(recovery.replayed, 50)
  while (!app.logs.some((line) => line.msg === 'replay to a slow consumer failed')) await new Promise((resolve) => setTimeout(resolve, 5))
  t.ok(app.logs.filter((line) => line.msg === 'replay to a slow consumer failed').every((line) => line.level === 20), 'at debug')
  client.socket.resume()
})

t.test('the Redis store on its own: appends without a relay and reads without a marker', async (t) => {
  if (!await needRedis(t)) return
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.disconnect())
  defineHistoryCommands(redis as unknown as HistoryClient)
  const store = new RedisHistory(() => redis as unknown as HistoryClient, testPrefix('history-store'), (name) => name)
  const first = await store.append('s', head(1), limits)
  t.equal(first.frame.toString(), `{"n":1,"offset":1,"epoch":"${first.position.epoch}"}`)
  await store.append('s', { head: '{', separator: '' }, limits)
  const read = await store.read('s', { offset: 0, epoch: first.position.epoch }, limits)
  t.same(read.recovered && read.entries.map((e) => [e.offset, e.frame.toString()]), [
    [1, `{"n":1,"offset":1,"epoch":"${first.position.epoch}"}`],
    [2, `{"offset":2,"epoch":"${first.position.epoch}"}`]
  ])
})
