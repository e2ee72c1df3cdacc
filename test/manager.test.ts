import 'reflect-metadata'
import t, { type Test } from 'tap'
import { WebSocketResource, type PachinkoOptions } from '../lib/index.js'
import { connect, type TestConnection } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

class Member extends WebSocketResource {
  static convention = 'any' as const
  override async onConnect () {
    const { room, user } = this.request.query as { room?: string, user?: string }
    if (room !== undefined) await this.join(room)
    if (user !== undefined) await this.identify(user)
    this.send({ type: 'welcome', payload: this.connection.id })
  }

  async onSay (msg: { payload: string }) {
    await this.broadcast('lobby', { type: 'said', payload: msg.payload }, { excludeSelf: true })
  }

  async onLeave () {
    await this.leave('lobby')
    this.send({ type: 'left' })
  }
}

async function setup (t: Test, options: PachinkoOptions = {}) {
  const app = await build(t, options)
  app.addWebSocketRoute('/m', Member)
  const join = async (query: Record<string, string> = {}) => {
    const client = await connect(app, '/m', { query })
    const id = (await client.expect('welcome')).payload as string
    return Object.assign(client, { id })
  }
  return { app, join }
}

t.test('keeps rooms: join, leave, queries, automatic leave on disconnect', async (t) => {
  const { app, join } = await setup(t)
  const a = await join({ room: 'lobby' })
  const b = await join({ room: 'lobby' })
  const c = await join({ room: 'lobby:annex' })
  t.equal(app.ws.size, 3)
  t.equal(await app.ws.count(), 3)
  t.equal(await app.ws.roomSize('lobby'), 2)
  t.same(await app.ws.roomsOf(a.id), ['lobby'])
  t.same((await app.ws.roomsByPrefix('lobby')).sort(), ['lobby', 'lobby:annex'])
  const inLobby: string[] = []
  for await (const ref of app.ws.connectionsInRoom('lobby')) inLobby.push(ref.id)
  t.same(inLobby.sort(), [a.id, b.id].sort())
  await app.ws.joinRoom(c.id, 'lobby')
  t.equal(await app.ws.roomSize('lobby'), 3)
  await app.ws.leaveRoom(c.id, 'lobby')
  t.equal(await app.ws.roomSize('lobby'), 2)
  b.send({ type: 'leave' })
  await b.expect('left')
  t.equal(await app.ws.roomSize('lobby'), 1)
  await a.close()
  await until(() => app.ws.size === 2)
  t.equal(await app.ws.roomSize('lobby'), 0)
  t.same(await app.ws.roomsByPrefix('lobby'), ['lobby:annex'])
  t.same(app.ws.get(a.id), undefined)
  t.ok(app.ws.get(c.id))
})

t.test('broadcasts to a room, serialising once, excluding whom it is told to', async (t) => {
  const { app, join } = await setup(t)
  const [a, b, c, outsider] = [await join({ room: 'lobby' }), await join({ room: 'lobby' }), await join({ room: 'lobby' }), await join()]
  let serialisations = 0
  const message = { type: 'news', toJSON () { serialisations++; return { type: 'news', payload: 'hi' } } }
  await app.ws.broadcastToRoom('lobby', message)
  for (const client of [a, b, c]) t.same(await client.expect('news'), { type: 'news', payload: 'hi' })
  t.equal(serialisations, 1, 'serialised once for three recipients')
  await app.ws.broadcastToRoom('lobby', { type: 'news', payload: 2 }, { exclude: [a.id, app.ws.get(b.id)!] })
  t.equal((await c.expect('news')).payload, 2)
  a.send({ type: 'say', payload: 'from a' })
  t.equal((await b.expect('said')).payload, 'from a')
  t.equal((await c.expect('said')).payload, 'from a')
  await app.ws.broadcastToAll({ type: 'all', payload: 1 }, { exclude: c.id })
  for (const client of [a, b, outsider]) await client.expect('all')
  await new Promise((resolve) => setTimeout(resolve, 20))
  const got = (client: TestConnection, type: string) => client.trace.filter((e) => e.direction === 'in' && (e.data as { type: string }).type === type).length
  t.equal(got(a, 'news'), 1, 'a was excluded')
  t.equal(got(b, 'news'), 1, 'b was excluded')
  t.equal(got(a, 'said'), 0, 'excludeSelf')
  t.equal(got(outsider, 'news'), 0, 'not in the room')
  t.equal(got(c, 'all'), 0)
  await app.ws.broadcastToRoom('empty-room', { type: 'nobody' })
})

t.test('sends to one connection, and rejects for unknown or closed ones', async (t) => {
  const { app, join } = await setup(t)
  const a = await join()
  await app.ws.sendTo(a.id, { type: 'direct', payload: 1 })
  t.equal((await a.expect('direct')).payload, 1)
  await t.rejects(app.ws.sendTo('nope.nope', { type: 'x' }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
  const conn = app.ws.get(a.id)!
  t.equal(conn.isOpen, true)
  await a.close()
  t.equal(conn.isOpen, false)
  t.equal(conn.send({ type: 'late' }), false)
  await t.rejects(app.ws.sendTo(a.id, {}), { code: /FST_PACHINKO_CONNECTION_(NOT_FOUND|CLOSED)/ })
})

t.test('identifies users across tabs: sendToUser, disconnectUser, connections({ user })', async (t) => {
  const { app, join } = await setup(t)
  const tab1 = await join({ user: 'ann' })
  const tab2 = await join({ user: 'ann' })
  const bob = await join({ user: 'bob' })
  t.equal(app.ws.get(tab1.id)!.user, 'ann')
  await app.ws.sendToUser('ann', { type: 'dm', payload: 'hi ann' })
  t.equal((await tab1.expect('dm')).payload, 'hi ann')
  t.equal((await tab2.expect('dm')).payload, 'hi ann')
  const anns: string[] = []
  for await (const ref of app.ws.connections({ user: 'ann' })) anns.push(ref.id)
  t.same(anns.sort(), [tab1.id, tab2.id].sort())
  await app.ws.identify(tab2.id, 'carol')
  await app.ws.sendToUser('ann', { type: 'dm', payload: 'again' })
  t.equal((await tab1.expect('dm')).payload, 'again')
  t.equal(await app.ws.disconnectUser('ann', 4000, 'bye ann'), 1)
  t.same(await tab1.closed, { code: 4000, reason: 'bye ann' })
  t.equal(await app.ws.disconnectUser('nobody'), 0)
  await app.ws.identify(bob.id, undefined)
  t.equal(app.ws.get(bob.id)!.user, undefined)
  await app.ws.disconnect(bob.id, 4001, 'kicked')
  t.same(await bob.closed, { code: 4001, reason: 'kicked' })
  await t.rejects(app.ws.disconnect('x.y'), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
})

t.test('labels connections and filters the async iterator by label, room and user together', async (t) => {
  const { app, join } = await setup(t)
  const a = await join({ room: 'lobby', user: 'ann' })
  const b = await join({ room: 'lobby', user: 'bob' })
  await app.ws.label(a.id, 'admin')
  await app.ws.label(b.id, 'admin')
  await app.ws.unlabel(b.id, 'admin')
  const c = await join({ room: 'lobby', user: 'cat' })
  await app.ws.unlabel(c.id, 'admin')              // never labelled: nothing to remove
  t.same([...app.ws.get(c.id)!.labels], [])
  const found = []
  for await (const ref of app.ws.connections({ room: 'lobby', label: 'admin' })) found.push(ref)
  t.equal(found.length, 1)
  t.match(found[0], { id: a.id, user: 'ann', labels: ['admin'], local: true, nodeId: app.ws.nodeId })
  await found[0].send({ type: 'via-ref' })
  await a.expect('via-ref')
  await found[0].close(4002, 'via ref')
  t.equal((await a.closed).code, 4002)
  const all = []
  for await (const ref of app.ws.connections()) all.push(ref.id)
  t.ok(all.includes(b.id))
})

t.test('rejects bad room, user and label names and unserialisable messages', async (t) => {
  const { app, join } = await setup(t)
  const a = await join()
  await t.rejects(app.ws.joinRoom(a.id, ''), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"room"/ })
  await t.rejects(app.ws.joinRoom(a.id, 5 as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
  await t.rejects(app.ws.identify(a.id, ''), { message: /"user"/ })
  await t.rejects(app.ws.label(a.id, ''), { message: /"label"/ })
  await t.rejects(app.ws.roomsByPrefix(1 as never), { message: /"prefix"/ })
  await t.rejects(app.ws.joinRoom('missing.id', 'r'), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
  const circular: Record<string, unknown> = {}
  circular.self = circular
  await t.rejects(app.ws.broadcastToAll(circular), { code: 'FST_PACHINKO_MESSAGE_NOT_SERIALIZABLE' })
  await t.rejects(app.ws.broadcastToAll(10n), { code: 'FST_PACHINKO_MESSAGE_NOT_SERIALIZABLE' })
  await t.rejects(app.ws.sendTo(a.id, undefined), { code: 'FST_PACHINKO_MESSAGE_NOT_SERIALIZABLE' })
})

t.test('counts connections and messages, and snapshots them', async (t) => {
  const { app, join } = await setup(t)
  const a = await join({ room: 'lobby' })
  const b = await join({ room: 'lobby' })
  a.send({ type: 'say', payload: 'x' })
  await b.expect('said')
  const snapshot = app.ws.snapshot()
  t.match(snapshot, { nodeId: app.ws.nodeId, backend: 'memory', connections: 2, rooms: 1, metrics: { connectionsOpened: 2, messagesIn: 1, messagesOut: 3 } })
  await a.close()
  await until(() => app.ws.metrics.connectionsClosed === 1)
})

/** A client whose socket stops reading: server writes pile up in its send buffer. */
async function slowClient (client: TestConnection) {
  client.socket.pause()
}

const KiB = 1024

/**
 * Writes to one connection, past the backpressure policy, until its buffer
 * holds `bytes` more than the transport in between can absorb once read again.
 */
async function fill (app: { ws: import('../lib/index.js').ConnectionManager }, id: string, bytes: number) {
  const connection = app.ws.get(id)!
  const frame = JSON.stringify(big(4 * KiB))
  while (connection.bufferedAmount <= bytes + 64 * KiB) connection.socket.send(frame)
}
const big = (n: number) => ({ type: 'blob', payload: 'x'.repeat(n) })

t.test('backpressure "close": a client that stops reading is closed with 1013 while others get everything', async (t) => {
  const { app, join } = await setup(t, { backpressure: { highWaterMark: 64 * KiB, policy: 'close' } })
  const slow = await join({ room: 'lobby' })
  const fast = await join({ room: 'lobby' })
  await slowClient(slow)
  const slowConn = app.ws.get(slow.id)!
  let peak = 0
  for (let i = 0; i < 200; i++) {
    await app.ws.broadcastToRoom('lobby', big(8 * KiB))
    peak = Math.max(peak, slowConn.bufferedAmount)
    await fast.expect('blob')
  }
  t.ok(peak < 64 * KiB + 16 * KiB, `buffer stayed bounded (peak ${peak})`)
  t.equal(app.ws.metrics.slowConsumersClosed, 1)
  slow.socket.resume()
  t.equal((await slow.closed).code, 1013)
})

t.test('backpressure "drop": a slow client misses messages but stays, others get everything', async (t) => {
  const { app, join } = await setup(t, { backpressure: { highWaterMark: 64 * KiB, policy: 'drop' } })
  const slow = await join({ room: 'lobby' })
  const fast = await join({ room: 'lobby' })
  await slowClient(slow)
  for (let i = 0; i < 100; i++) {
    await app.ws.broadcastToRoom('lobby', big(8 * KiB))
    await fast.expect('blob')
  }
  t.ok(app.ws.metrics.messagesDropped > 50)
  t.ok(app.ws.get(slow.id)!.bufferedAmount < 80 * KiB)
  await t.rejects(app.ws.sendTo(slow.id, big(8 * KiB)), { code: 'FST_PACHINKO_SEND_DROPPED' })
  slow.socket.resume()
  await until(() => app.ws.get(slow.id)!.bufferedAmount === 0)
  await app.ws.broadcastToRoom('lobby', { type: 'after' })
  await slow.expect('after')
  t.equal(app.ws.get(slow.id)!.isOpen, true)
})

t.test('backpressure "wait": broadcasts wait for a slow client to drain, then time out with a coded error', async (t) => {
  const { app, join } = await setup(t, { backpressure: { highWaterMark: 16 * KiB, policy: 'wait', sendTimeoutMs: 200 } })
  const slow = await join({ room: 'lobby' })
  const fast = await join({ room: 'lobby' })
  await slowClient(slow)
  await fill(app, slow.id, 16 * KiB)
  const pending = app.ws.broadcastToRoom('lobby', { type: 'waited' })
  await fast.expect('waited')
  setTimeout(() => slow.socket.resume(), 50)
  await pending
  await slow.expect('waited')
  slow.socket.pause()
  await fill(app, slow.id, 16 * KiB)
  await t.rejects(app.ws.broadcastToRoom('lobby', { type: 'too-late' }), { code: 'FST_PACHINKO_SEND_TIMEOUT', message: new RegExp(slow.id) })
  await t.rejects(app.ws.sendTo(slow.id, { type: 'too-late' }, { timeoutMs: 20 }), { code: 'FST_PACHINKO_SEND_TIMEOUT' })
  const second = await join({ room: 'lobby' })
  await slowClient(second)
  await fill(app, second.id, 16 * KiB)
  const failure = await app.ws.broadcastToRoom('lobby', { type: 'x' }, { timeoutMs: 30 }).catch((err: unknown) => err)
  t.ok(failure instanceof AggregateError, 'several failures aggregate')
  t.equal((failure as AggregateError).errors.length, 2)
  t.match((failure as AggregateError).message, new RegExp(`2 recipients failed.*${second.id}`))
  await fast.expect('x')
})

t.test('checks every join with authorizeJoin', async (t) => {
  const asked: string[] = []
  const app = await build(t, {
    authorizeJoin: async (connection, room) => {
      asked.push(room)
      return room !== 'private:bob' && (connection.user === undefined || !room.startsWith('private:') || room === `private:${connection.user}`)
    }
  })
  app.addWebSocketRoute('/m', Member)
  const ann = await connect(app, '/m', { query: { user: 'ann', room: 'private:ann' } })
  const annId = (await ann.expect('welcome')).payload as string
  await t.rejects(app.ws.joinRoom(annId, 'private:bob'), { code: 'FST_PACHINKO_JOIN_REFUSED', message: /"private:bob"/ })
  await app.ws.joinRoom(annId, 'public')
  t.same((await app.ws.roomsOf(annId)).sort(), ['private:ann', 'public'])
  await app.ws.identify(annId, 'ann')
  await t.rejects(app.ws.joinRoom(annId, 'private:carol'), { code: 'FST_PACHINKO_JOIN_REFUSED' })
  const bob = await connect(app, '/m', { query: { room: 'private:bob' } })
  t.equal((await bob.closed).code, 1008, 'a refused join in onConnect refuses the connection')
  t.same(asked, ['private:ann', 'private:bob', 'public', 'private:carol', 'private:bob'])
  await t.rejects(async () => { const Fastify = (await import('fastify')).default; await Fastify().register((await import('../lib/index.js')).default, { authorizeJoin: 'x' as never }) }, { message: /"authorizeJoin"/ })
})

t.test('answers roomsOf for a handle and whenEmpty at once when empty', async (t) => {
  const { app, join } = await setup(t)
  t.equal(await app.ws.whenEmpty(10), true)
  const a = await join({ room: 'lobby' })
  t.same(await app.ws.roomsOf(app.ws.get(a.id)!), ['lobby'])
  t.equal(await app.ws.whenEmpty(10), false, 'times out while a connection is open')
})

t.test('backpressure "wait": a recipient that leaves while being waited for is not a failure', async (t) => {
  const { app, join } = await setup(t, { backpressure: { highWaterMark: 16 * KiB, policy: 'wait', sendTimeoutMs: 5000 } })
  const slow = await join({ room: 'lobby' })
  await slowClient(slow)
  await fill(app, slow.id, 16 * KiB)
  const pending = app.ws.broadcastToRoom('lobby', { type: 'waited' })
  app.ws.get(slow.id)!.terminate()
  await pending
  t.pass('resolved once the recipient was gone')
})
