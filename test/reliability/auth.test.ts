import 'reflect-metadata'
import fc from 'fast-check'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { deepStrictEqual, equal, ok, rejects } from 'node:assert/strict'
import { once } from 'node:events'
import t from 'tap'
import WebSocket from 'ws'
import { ClientError, WebSocketResource, type Connection } from '../../lib/index.js'
import { connect, UpgradeRefusedError, type TestConnection } from '../../lib/testing/index.js'
import { build, until } from '../helpers/build.js'
import { inBatches, pascal, poisoned, portOf, watchProcess } from './fixtures/helpers.js'

/*
 * What a client cannot do: open a socket without passing the route's checks
 * (and no resource is made when it fails), join a room `authorizeJoin`
 * refuses, guess another connection's id, or reach anything but a message
 * handler by naming it in a frame.
 */

const REFUSED_ATTEMPTS = 300 // in-process, per kind of refusal
const TCP_ATTEMPTS = 50 // over TCP, per kind of refusal
const ID_SAMPLE = 2000
const JOIN_RUNS = 200
const TAG_RUNS = 300

let constructed = 0

class Private extends WebSocketResource {
  constructor () {
    super()
    constructed++
  }

  override onConnect () {
    this.send({ type: 'welcome', payload: this.connection.id })
  }
}

/** Answers 401 unless the upgrade carries a token: a Fastify onRequest hook, the way a user would write it. */
async function requireToken (request: FastifyRequest, reply: FastifyReply) {
  if (request.headers.authorization !== 'Bearer good') await reply.code(401).send({ error: 'Unauthorized' })
}

/** The status a real `ws` client gets when its upgrade is refused. */
async function tcpStatus (url: string, headers: Record<string, string> = {}): Promise<number> {
  const socket = new WebSocket(url, { headers })
  const [, response] = await once(socket, 'unexpected-response') as [unknown, { statusCode: number }]
  const aborted = once(socket, 'error') // ws reports the handshake it was told to abandon
  socket.terminate()
  await aborted
  return response.statusCode
}

t.test('refused upgrades get a real HTTP status, and no resource is ever created for them', async (t) => {
  const faults = watchProcess(t)
  const app = await build(t)
  await app.register(async (secured) => {
    secured.addHook('onRequest', requireToken)
    secured.addWebSocketRoute('/hook', Private)
  })
  app.addWebSocketRoute('/authorize', Private, { authorize: (request) => request.headers['x-role'] === 'admin' })
  app.addWebSocketRoute('/authorize-throws', Private, {
    authorize: (request) => {
      if (request.headers['x-role'] === undefined) throw Object.assign(new Error('who are you?'), { statusCode: 401 })
      return true
    }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `ws://127.0.0.1:${portOf(app)}`

  const statuses: Record<string, number[]> = { '/hook': [], '/authorize': [], '/authorize-throws': [] }
  for (const [path, headers] of [['/hook', { authorization: 'Bearer bad' }], ['/authorize', { 'x-role': 'user' }], ['/authorize-throws', {}]] as const) {
    await inBatches(REFUSED_ATTEMPTS, 50, async () => {
      const refusal = await connect(app, path, { headers }).catch((err: unknown) => err)
      statuses[path].push((refusal as UpgradeRefusedError).statusCode)
    })
    await inBatches(TCP_ATTEMPTS, 25, async () => { statuses[path].push(await tcpStatus(`${base}${path}`, headers)) })
  }
  const attempts = REFUSED_ATTEMPTS + TCP_ATTEMPTS
  t.same(statuses['/hook'], new Array(attempts).fill(401), `onRequest hook: ${attempts} × HTTP 401`)
  t.same(statuses['/authorize'], new Array(attempts).fill(403), `authorize() false: ${attempts} × HTTP 403`)
  t.same(statuses['/authorize-throws'], new Array(attempts).fill(401), `authorize() throwing a 401: ${attempts} × HTTP 401`)
  t.equal(constructed, 0, `no resource was constructed for ${3 * attempts} refused upgrades`)
  t.equal(app.ws.metrics.connectionsOpened, 0, 'no connection was opened')
  t.equal(app.ws.size, 0)

  // the same routes with the right credentials: the counter does count
  const admitted = [
    await connect(app, '/hook', { headers: { authorization: 'Bearer good' } }),
    await connect(app, '/authorize', { headers: { 'x-role': 'admin' } }),
    await connect(app, '/authorize-throws', { headers: { 'x-role': 'user' } })
  ]
  for (const client of admitted) await client.expect<{ payload: string }>('welcome')
  t.equal(constructed, 3, 'an admitted upgrade does construct its resource')
  t.same(faults, [], 'no uncaught exception or unhandled rejection')
})

t.test('authorizeJoin: a refused room is never joined, whether the resource asks or app.ws does', async (t) => {
  const faults = watchProcess(t)
  /** Joins whatever room a client names: the library's authorizeJoin is the only guard. */
  class Lobby extends WebSocketResource {
    static convention = 'any' as const
    override async onConnect () {
      await this.identify((this.request.query as { user: string }).user)
      this.send({ type: 'welcome', payload: this.connection.id })
    }

    async onJoin (msg: { payload: string }) {
      await this.join(msg.payload) // a refusal propagates: the client gets INTERNAL, nothing more
      this.send({ type: 'joined', payload: msg.payload })
    }

    async onJoinPolitely (msg: { payload: string }) {
      try {
        await this.join(msg.payload)
        this.send({ type: 'joined', payload: msg.payload })
      } catch (err) {
        throw new ClientError('JOIN_REFUSED', `refused (${(err as { code: string }).code})`)
      }
    }
  }
  const authorizeJoin = (connection: Connection, room: string) => room.startsWith('public:') || room === `private:${connection.user}`
  const app = await build(t, { authorizeJoin })
  app.addWebSocketRoute('/lobby', Lobby)
  const mallory = await connect(app, '/lobby', { query: { user: 'mallory' } })
  const alice = await connect(app, '/lobby', { query: { user: 'alice' } })
  const malloryId = (await mallory.expect<{ payload: string }>('welcome')).payload
  await app.ws.joinRoom((await alice.expect<{ payload: string }>('welcome')).payload, 'private:alice')

  const roomArb = fc.oneof(
    fc.constantFrom('public:general', 'private:alice', 'private:mallory', 'private:', 'PUBLIC:x', ' public:x', 'admin', 'public', '__proto__', 'constructor'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    fc.string({ minLength: 1 }).map((s) => `public:${s}`)
  )
  let refusals = 0
  let joins = 0
  await fc.assert(fc.asyncProperty(roomArb, fc.boolean(), async (room, politely) => {
    const allowed = authorizeJoin({ user: 'mallory' } as Connection, room)
    const before = await app.ws.roomSize(room)
    mallory.send({ type: politely ? 'joinPolitely' : 'join', payload: room })
    const answer = await mallory.receive()
    const rooms = await app.ws.roomsOf(malloryId)
    if (allowed) {
      joins++
      deepStrictEqual(answer, { type: 'joined', payload: room })
      ok(rooms.includes(room), 'a member')
      await app.ws.leaveRoom(malloryId, room)
      return
    }
    refusals++
    deepStrictEqual(answer.error, politely
      ? { code: 'JOIN_REFUSED', message: 'refused (FST_PACHINKO_JOIN_REFUSED)', tag: 'joinPolitely' }
      : { code: 'INTERNAL', message: 'internal server error', tag: 'join' }, 'the refusal reaches the client as an error frame, without internals')
    ok(!rooms.includes(room), 'not a member')
    equal(await app.ws.roomSize(room), before, 'the room did not grow')
    await rejects(app.ws.joinRoom(malloryId, room), { code: 'FST_PACHINKO_JOIN_REFUSED' }, 'app.ws.joinRoom is refused too')
  }), { numRuns: JOIN_RUNS, examples: [['private:alice', false], ['private:alice', true], ['public:general', false]] })
  t.ok(refusals > 0 && joins > 0, `${refusals} refused joins (error frame, not a member, room unchanged, app.ws.joinRoom refused too) and ${joins} allowed ones`)

  // mallory never hears what is said in alice's private room
  await app.ws.broadcastToRoom('private:alice', { type: 'secret', payload: 'for alice only' })
  t.equal((await alice.expect('secret')).payload, 'for alice only')
  mallory.send({ type: 'join', payload: 'public:after' })
  await mallory.expect('joined')
  t.notOk(mallory.trace.some((entry) => (entry.data as { type?: string }).type === 'secret'), 'mallory received nothing from the private room')
  t.same(faults, [], 'no uncaught exception or unhandled rejection')
})

t.test(`connection ids are 96 random bits: unique, unpredictable, over ${ID_SAMPLE} connections`, async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/private', Private)
  const ids: string[] = []
  const clients: TestConnection[] = []
  await inBatches(ID_SAMPLE, 200, async (i) => {
    clients[i] = await connect(app, '/private')
    ids[i] = (await clients[i].expect<{ payload: string }>('welcome')).payload
  })
  t.equal(new Set(ids).size, ID_SAMPLE, 'all distinct')
  const [node, ...others] = new Set(ids.map((id) => id.split('.')[0]))
  t.equal(node, app.ws.nodeId, 'each starts with the node id')
  t.same(others, [])
  const suffixes = ids.map((id) => id.slice(node.length + 1))
  t.ok(suffixes.every((s) => /^[A-Za-z0-9_-]{16}$/.test(s)), 'then 16 base64url characters')
  const bits = suffixes.map((s) => Buffer.from(s, 'base64url'))
  t.ok(bits.every((b, i) => b.length === 12 && b.toString('base64url') === suffixes[i]), 'which are exactly 12 bytes: 96 bits')

  // every bit is a coin toss: each of the 96 positions is set in 40–60 % of ids (± ~9 standard deviations)
  const ones = new Array<number>(96).fill(0)
  for (const b of bits) for (let bit = 0; bit < 96; bit++) ones[bit] += (b[bit >> 3] >> (bit & 7)) & 1
  const skewed = ones.map((n, bit) => [bit, n / ID_SAMPLE]).filter(([, share]) => share < 0.4 || share > 0.6)
  t.same(skewed, [], 'no bit position is biased')
  // consecutive ids share no structure: about half their bits differ (mean of 48, bounds ± ~10 σ of the mean)
  let distance = 0
  for (let i = 1; i < bits.length; i++) for (let byte = 0; byte < 12; byte++) distance += popcount(bits[i][byte] ^ bits[i - 1][byte])
  const mean = distance / (bits.length - 1)
  t.ok(mean > 46 && mean < 50, `consecutive ids differ in ${mean.toFixed(1)} of 96 bits on average`)
  const sorted = [...suffixes].sort()
  t.notSame(sorted, suffixes, 'ids are not issued in sorted (sequential) order')
  await inBatches(ID_SAMPLE, 200, async (i) => { await clients[i].close() })
})

t.test('nothing a client sends reaches a lifecycle method, a helper or another connection: every such tag is UNKNOWN_TYPE', async (t) => {
  const faults = watchProcess(t)
  let connects = 0
  let disconnects = 0
  let pings = 0
  const instances: Guarded[] = []
  class Guarded extends WebSocketResource {
    static convention = 'any' as const
    override onConnect () {
      connects++
      instances.push(this)
      this.send({ type: 'welcome', payload: this.connection.id })
    }

    override onDisconnect () { disconnects++ }
    onPing () { pings++ }
    // methods that are not handlers, whatever their name
    sendTo (id: string) { void this.ws.sendTo(id, { type: 'stolen' }) }
    onlyForServer () { this.send({ type: 'stolen' }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/guarded', Guarded)
  const victim = await connect(app, '/guarded')
  const attacker = await connect(app, '/guarded')
  const victimId = (await victim.expect<{ payload: string }>('welcome')).payload
  await attacker.expect<{ payload: string }>('welcome')
  const sends: unknown[][] = []
  for (const method of ['sendTo', 'sendToUser', 'broadcastToRoom', 'broadcastToAll', 'disconnect', 'joinRoom'] as const) {
    const original = app.ws[method].bind(app.ws) as (...args: unknown[]) => Promise<unknown>
    Object.assign(app.ws, { [method]: async (...args: unknown[]) => { sends.push([method, ...args]); return await original(...args) } })
  }

  const dangerous = [
    'sendTo', 'send-to', 'send_to', 'SendTo', 'sendToUser', 'broadcast', 'broadcastToRoom', 'broadcastToAll', 'send', 'sendRaw', 'sendError',
    'connect', 'Connect', 'onConnect', 'on-connect', 'disconnect', 'onDisconnect', 'unhandled', 'onUnhandled', 'error', 'onError',
    'validationError', 'validation-error', 'onValidationError', 'close', 'terminate', 'join', 'leave', 'identify', 'constructor',
    '__proto__', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then', 'state', 'ws', 'app', 'log', 'params',
    'request', 'connection', 'parent', 'getChildContext', 'childContext', 'onlyForServer', 'only-for-server', 'OnPing', 'onPing', 'on_ping'
  ]
  const tagArb = fc.oneof(fc.constantFrom(...dangerous), fc.string({ unit: 'binary', maxLength: 30 }))
  const payloadArb = fc.oneof(fc.constant(victimId), fc.record({ id: fc.constant(victimId), to: fc.constant(victimId), message: fc.jsonValue({ maxDepth: 2 }) }), fc.jsonValue({ maxDepth: 2 }))
  let unknown = 0
  let realPings = 0
  await fc.assert(fc.asyncProperty(tagArb, payloadArb, async (type, payload) => {
    attacker.send({ type, payload })
    // by README's convention `ping`, `Ping`, `_ping`, `ping-`… name onPing: a real handler, which answers nothing
    if (pascal(type) === 'Ping') {
      realPings++
      return
    }
    const answer = await attacker.expect('error')
    // a payload with a `__proto__` key (fast-check makes some) is refused before the tag is read
    const expected = poisoned(payload)
      ? { code: 'BAD_JSON', message: 'frame contains a forbidden prototype property' }
      : { code: 'UNKNOWN_TYPE', message: `no handler for "${type}"`, tag: type }
    deepStrictEqual(answer.error, expected, `"${type}" is no handler`)
    unknown++
  }), { numRuns: TAG_RUNS, examples: [['sendTo', victimId], ['ping', null], ['sendTo', JSON.parse(`{"__proto__":{"to":"${victimId}"}}`)]] })

  // a ping round-trips through the same queue, so everything sent before it has been handled
  attacker.send({ type: 'ping' })
  await attacker.close()
  await until(() => disconnects === 1, 2000, 'the attacker\'s onDisconnect')
  t.ok(unknown > TAG_RUNS / 2, `${unknown} frames were answered UNKNOWN_TYPE (or BAD_JSON)`)
  t.equal(pings, realPings + 1, 'only the real handler ran, once per ping')
  t.equal(connects, 2, 'onConnect ran once per connection, never for a message')
  t.equal(disconnects, 1, 'onDisconnect ran once, for the attacker\'s own close')
  t.same(sends, [], `${unknown} frames, none of which made the server send, broadcast, join or disconnect anything`)
  t.notOk(app.logs.some((line) => line.level >= 50), 'no error was logged: no handler threw')
  t.same(victim.trace.filter((entry) => entry.direction === 'in').map((entry) => (entry.data as { type: string }).type), ['welcome'], 'the victim received nothing but its welcome')

  // what the frames could not reach works when the server calls it: the spies and the victim are live
  instances[1].sendTo(victimId)
  instances[0].onlyForServer()
  t.equal((await victim.expect('stolen')).type, 'stolen')
  await victim.expect('stolen')
  t.same(sends, [['sendTo', victimId, { type: 'stolen' }]], 'the spy saw the server-side sendTo')
  t.same(faults, [], 'no uncaught exception or unhandled rejection')
})

function popcount (byte: number): number {
  let count = 0
  for (let b = byte; b > 0; b >>= 1) count += b & 1
  return count
}
