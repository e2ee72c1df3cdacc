import 'reflect-metadata'
import { EventEmitter, once } from 'node:events'
import t, { type Test } from 'tap'
import { Type } from 'typebox'
import { Channel, ClientError, handlesEvent, type LeaveReason, type WebSocketHubOptions } from '../lib/index.js'
import { build } from './helpers/build.js'
import { join, listen, next, phoenix, push } from './helpers/phoenix.js'

const left: Array<{ topic: string, reason: LeaveReason }> = []
const leaves = new EventEmitter()

class Room extends Channel<{ id: string }> {
  override onJoin (payload: Record<string, unknown>) {
    if (payload.token === 'refuse') return false
    if (payload.token !== 'ok') throw new ClientError('UNAUTHORIZED', 'unauthorized')
    return { joined: this.topic, id: this.params.id }
  }

  @handlesEvent('shout', Type.Object({ body: Type.String() }))
  async shout (payload: { body: string }) {
    await this.broadcast('shout', payload)
    return { ok: true }
  }

  @handlesEvent('typing')
  async typing () {
    await this.broadcastFrom('typing', { who: this.connection.id })
  }

  @handlesEvent('whoami')
  whoami () {
    return { topic: this.topic, joinRef: this.joinRef, assigns: this.assigns }
  }

  @handlesEvent('forbidden')
  forbidden () {
    throw new ClientError('FORBIDDEN', 'not in this room')
  }

  @handlesEvent('crash')
  crash () {
    throw new Error('database password is hunter2')
  }

  @handlesEvent('kickme')
  async kickme () {
    await this.leave()
  }

  @handlesEvent('poke')
  poke () {
    this.push('poked', { n: 1 })
    return { pushed: true }
  }

  override onLeave (reason: LeaveReason) {
    left.push({ topic: this.topic, reason })
    leaves.emit('left', { topic: this.topic, reason })
  }
}

class Lobby extends Channel {
  @handlesEvent('ping')
  ping () { return { pong: true } }
}

async function setup (t: Test, options: WebSocketHubOptions = {}) {
  const app = await build(t)
  const hub = app.addWebSocketHub('/socket', options)
  hub.channel('room:{id}', Room)
  hub.channel('lobby', Lobby)
  const url = await listen(app)
  return { app, hub, url }
}

t.test('a join gets the ok reply with onJoin\'s response, or the error reply with its reason', async (t) => {
  const { url } = await setup(t)
  const socket = phoenix(t, url)
  t.same(await join(socket.channel('room:42', { token: 'ok' })), { status: 'ok', response: { joined: 'room:42', id: '42' } })
  t.same(await join(socket.channel('room:1', { token: 'no' })), { status: 'error', response: { reason: 'unauthorized', code: 'UNAUTHORIZED' } })
  t.same(await join(socket.channel('room:2', { token: 'refuse' })), { status: 'error', response: { reason: 'join refused' } })
  t.same(await join(socket.channel('lobby')), { status: 'ok', response: {} })
})

t.test('a join no pattern matches gets "unmatched topic"', async (t) => {
  const { url } = await setup(t)
  const socket = phoenix(t, url)
  t.same(await join(socket.channel('nowhere:1')), { status: 'error', response: { reason: 'unmatched topic' } })
  t.same(await join(socket.channel('room:1:extra')), { status: 'error', response: { reason: 'unmatched topic' } })
})

t.test('joins over maxChannels get "too many channels joined"', async (t) => {
  const { url } = await setup(t, { maxChannels: 2 })
  const socket = phoenix(t, url)
  t.equal((await join(socket.channel('room:1', { token: 'ok' }))).status, 'ok')
  t.equal((await join(socket.channel('room:2', { token: 'ok' }))).status, 'ok')
  t.same(await join(socket.channel('room:3', { token: 'ok' })), { status: 'error', response: { reason: 'too many channels joined' } })
})

t.test('the official client leaves an open channel of a topic before joining it again', async (t) => {
  left.length = 0
  const { url } = await setup(t)
  const socket = phoenix(t, url)
  const first = socket.channel('room:7', { token: 'ok' })
  t.equal((await join(first)).status, 'ok')
  const onLeave = once(leaves, 'left')
  const second = socket.channel('room:7', { token: 'ok' })
  t.equal((await join(second)).status, 'ok')
  t.same(await onLeave, [{ topic: 'room:7', reason: 'leave' }])
  t.same(await push(second, 'whoami'), { status: 'ok', response: { topic: 'room:7', joinRef: (second as unknown as { joinRef: () => string }).joinRef(), assigns: {} } })
})

t.test('an event gets its handler\'s value as the ok reply; refusals and failures are error replies', async (t) => {
  const { app, url } = await setup(t)
  const socket = phoenix(t, url)
  const room = socket.channel('room:1', { token: 'ok' })
  await join(room)
  t.same(await push(room, 'shout', { body: 'hi' }), { status: 'ok', response: { ok: true } })
  t.same(await push(room, 'typing'), { status: 'ok', response: {} })
  t.same(await push(room, 'shout', { body: 1 }), {
    status: 'error',
    response: { reason: 'validation', code: 'VALIDATION', issues: [{ path: '/body', message: 'must be string' }] }
  })
  t.same(await push(room, 'shout', { body: 'x', extra: true }), {
    status: 'error',
    response: { reason: 'validation', code: 'VALIDATION', issues: [{ path: '/extra', message: 'unknown property' }] }
  })
  t.same(await push(room, 'forbidden'), { status: 'error', response: { reason: 'not in this room', code: 'FORBIDDEN' } })
  t.same(await push(room, 'onJoin'), { status: 'error', response: { reason: 'no handler for "onJoin"', code: 'UNKNOWN_EVENT' } })
  t.same(await push(room, 'crash'), { status: 'error', response: { reason: 'internal' } })
  const logged = app.logs.find((line) => line.level === 50)
  t.match(logged, { msg: 'event handler failed', topic: 'room:1', event: 'crash', err: { message: 'database password is hunter2' } })
  t.equal(app.logs.filter((line) => line.level >= 50).length, 1, 'only the crash is an error-level line')
})

t.test('push reaches this subscriber only, with its join ref', async (t) => {
  const { url } = await setup(t)
  const alice = phoenix(t, url)
  const bob = phoenix(t, url)
  const a = alice.channel('room:1', { token: 'ok' })
  const b = bob.channel('room:1', { token: 'ok' })
  await join(a)
  await join(b)
  let bobPoked = false
  b.on('poked', () => { bobPoked = true })
  const poked = next(a, 'poked')
  t.same(await push(a, 'poke'), { status: 'ok', response: { pushed: true } })
  t.same(await poked, { n: 1 })
  t.same(await push(b, 'shout', { body: 'sync' }), { status: 'ok', response: { ok: true } })
  t.notOk(bobPoked)
})

t.test('broadcast reaches every subscriber; broadcastFrom all but the sender; hub.broadcast from outside', async (t) => {
  const { hub, url } = await setup(t)
  const alice = phoenix(t, url)
  const bob = phoenix(t, url)
  const a = alice.channel('room:1', { token: 'ok' })
  const b = bob.channel('room:1', { token: 'ok' })
  const other = bob.channel('room:2', { token: 'ok' })
  await join(a)
  await join(b)
  await join(other)
  let otherGot = 0
  other.on('shout', () => { otherGot++ })
  const toAlice = next(a, 'shout')
  const toBob = next(b, 'shout')
  await push(a, 'shout', { body: 'hello' })
  t.same(await toAlice, { body: 'hello' })
  t.same(await toBob, { body: 'hello' })

  let aliceTyping = 0
  a.on('typing', () => { aliceTyping++ })
  const bobTyping = next(b, 'typing')
  await push(a, 'typing')
  t.ok((await bobTyping).who)
  const announced = [next(a, 'announce'), next(b, 'announce')]
  await hub.broadcast('room:1', 'announce', { text: 'hi' })
  t.same(await Promise.all(announced), [{ text: 'hi' }, { text: 'hi' }])
  t.equal(aliceTyping, 0, 'broadcastFrom skipped the sender')
  t.equal(otherGot, 0, 'another topic got nothing')
})

t.test('leave runs onLeave and closes the channel; a kick sends phx_close and the client does not rejoin', async (t) => {
  left.length = 0
  const { app, url } = await setup(t)
  // the kick's push never gets its reply: a short push timeout lets the test end soon after
  const socket = phoenix(t, url, { timeout: 200 })
  const room = socket.channel('room:1', { token: 'ok' })
  await join(room)
  // the client closes its channel at once; the server's onLeave is what is awaited
  const onLeave = once(leaves, 'left')
  room.leave()
  t.same(await onLeave, [{ topic: 'room:1', reason: 'leave' }])
  const kicked = socket.channel('room:2', { token: 'ok' })
  await join(kicked)
  const closed = new Promise((resolve) => kicked.onClose(resolve))
  kicked.push('kickme', {})
  await closed
  t.equal(kicked.state, 'closed', 'the client does not rejoin a kicked channel')
  t.same(left.at(-1), { topic: 'room:2', reason: 'kick' })
  t.equal(await app.ws.roomSize('\u0000hub\u0000/socket\u0000room:2'), 0, 'unsubscribed')
})
