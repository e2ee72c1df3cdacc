import 'reflect-metadata'
import t from 'tap'
import { Type, type Static } from 'typebox'
import { ClientError, ConnectionManager, WebSocketResource, handlesMessage, inject, injectable, message, type Token } from '../lib/index.js'
import { simulate, type ErrorFrame } from '../lib/testing/index.js'
import { recordingLogger, type LogEntry } from '../lib/testing/recording-logger.js'

/*
 * simulate(): one resource, no Fastify, no socket. What it sends is in
 * `sent`, what it asks app.ws to deliver is in `broadcasts`, its rooms in
 * `rooms`, its log lines in `logs`.
 */

const Add = message('add', { n: Type.Integer({ minimum: 1, maximum: 100 }) })
const disconnects: number[] = []

class Counter extends WebSocketResource<{ room: string }> {
  static schema = Type.Union([Add])
  static convention = 'any' as const
  count = 0
  user = ''

  override async onConnect () {
    const user = (this.request.query as { user?: string }).user
    if (user === undefined) return false
    this.user = user
    await this.identify(user)
    await this.join(this.params.room)
    this.send({ type: 'hello', payload: { room: this.params.room, user, agent: this.request.headers['user-agent'], url: this.request.url } })
  }

  // TypeScript's __decorate helper has branches that map onto the decorated method's line
  /* c8 ignore start */
  @handlesMessage('add')
  add (msg: Static<typeof Add>) {
    /* c8 ignore stop */
    this.count += msg.payload.n
    this.send({ type: 'count', payload: this.count })
  }

  async onShout () {
    await this.broadcast(this.params.room, { type: 'shouted', payload: this.user }, { excludeSelf: true })
    await this.ws.broadcastToAll({ type: 'everyone' })
    await this.ws.sendToUser('bob', { type: 'psst' })
    await this.ws.sendTo(this.connection.id, { type: 'direct' })
  }

  async onLeave () { await this.leave(this.params.room) }
  onFail () { throw new Error('boom') }
  onRefuse () { throw new ClientError('NOPE', 'not allowed', { close: 4001 }) }
  onBye () { this.close(4000, 'bye'); this.close(4002, 'twice') }
  onCut () { this.connection.terminate() }
  onRaw () { this.connection.sendRaw('plain text'); this.connection.sendRaw(Buffer.from([1, 2])) }
  onApp () { this.send({ type: 'app', payload: this.app.prefix }) }
  async onSlow () {
    await new Promise((resolve) => setImmediate(resolve))
    this.send({ type: 'slow done' })
  }

  override async onDisconnect (code: number) { disconnects.push(code) }
}

const general = { params: { room: 'general' }, query: { user: 'ann' } }

t.test('connects, joins, sends, records broadcasts and rooms, and disconnects', async (t) => {
  const sim = simulate(Counter, { ...general, headers: { 'user-agent': 'tap' } })
  t.same(await sim.connect(), { accepted: true })
  t.same(sim.sent, [{ type: 'hello', payload: { room: 'general', user: 'ann', agent: 'tap', url: '/?user=ann' } }])
  t.same([...sim.rooms], ['general'])
  t.equal(sim.connection.user, 'ann')
  t.type(sim.ws, ConnectionManager)
  t.equal(await sim.ws.roomSize('general'), 1, 'app.ws answers for the one simulated connection')

  t.same(await sim.receive({ type: 'add', payload: { n: 2 } }), [{ type: 'count', payload: 2 }], 'receive() resolves with what was sent meanwhile')
  await sim.receive({ type: 'add', payload: { n: 3 } })
  t.equal(sim.resource.count, 5, 'the instance is there to inspect, typed')

  t.same(await sim.receive({ type: 'shout' }), [], 'broadcasts are not delivered, not even to a member of the room')
  t.same(sim.broadcasts, [
    { kind: 'room', room: 'general', message: { type: 'shouted', payload: 'ann' }, exclude: [sim.connection.id] },
    { kind: 'all', message: { type: 'everyone' }, exclude: [] },
    { kind: 'user', user: 'bob', message: { type: 'psst' }, exclude: [] },
    { kind: 'connection', id: sim.connection.id, message: { type: 'direct' }, exclude: [] }
  ])
  await sim.receive({ type: 'leave' })
  t.same([...sim.rooms], [])

  const before = disconnects.length
  t.same(await sim.disconnect(4321, 'done'), { code: 4321, reason: 'done' })
  t.same(disconnects.slice(before), [4321], 'onDisconnect ran with the code')
  t.same(sim.closed, { code: 4321, reason: 'done' })
  t.equal(sim.ws.size, 0, 'unregistered')
  t.match(sim.logs.at(-1), { level: 'debug', msg: 'connection closed', code: 4321, connId: sim.connection.id })
})

t.test('answers bad frames with the same error frames as a real connection and stays open', async (t) => {
  const sim = simulate(Counter, general)
  await sim.connect()
  const code = async (frame: unknown, options?: { binary?: boolean }) => ((await sim.receive(frame, options))[0] as ErrorFrame).error.code
  t.equal(await code({ type: 'add', payload: { n: 0 } }), 'VALIDATION')
  t.equal(await code({ type: 'add', payload: { n: 1, extra: true } }), 'VALIDATION')
  t.equal(await code({ type: 'nope' }), 'UNKNOWN_TYPE')
  t.equal(await code({ type: 'onConnect' }), 'UNKNOWN_TYPE')
  t.equal(await code({ payload: 1 }), 'BAD_MESSAGE')
  t.equal(await code([1]), 'BAD_MESSAGE')
  t.equal(await code(undefined), 'BAD_MESSAGE', 'undefined goes as JSON null')
  t.equal(await code('{"type":"add","payload":{"n":1,"__proto__":{"x":1}}}'), 'BAD_JSON')
  t.equal(await code('not json'), 'BAD_JSON')
  t.equal(await code(Buffer.from('{"type":"add"}')), 'UNSUPPORTED_DATA', 'a Buffer is a binary frame')
  t.same(await sim.receive(Buffer.from('{"type":"add","payload":{"n":7}}'), { binary: false }), [{ type: 'count', payload: 7 }], 'unless binary: false')
  t.equal(await code({ type: 'x'.repeat(500) }), 'UNKNOWN_TYPE')
  t.same(sim.logs.filter((l) => l.level === 'error' || l.level === 'fatal' || l.level === 'warn'), [], 'client mistakes never log above debug')
  t.equal(await code({ type: 'fail' }), 'INTERNAL')
  t.match(sim.logs.at(-1), { level: 'error', msg: 'message handler failed', err: { message: 'boom' } }, 'a handler that throws is an error log, as on a server')
  t.same(await sim.receive({ type: 'raw' }), ['plain text', Buffer.from([1, 2])], 'non-JSON text as a string, binary as a Buffer')
  t.equal(sim.closed, undefined)
})

t.test('closes from the server side after the handler settles: this.close(), ClientError close codes, terminate()', async (t) => {
  const bye = simulate(Counter, general)
  await bye.connect()
  await bye.receive({ type: 'bye' })
  t.same(bye.closed, { code: 4000, reason: 'bye' }, 'the first close wins')
  await t.rejects(bye.receive({ type: 'add', payload: { n: 1 } }), { code: 'FST_PACHINKO_TESTING_BAD_STATE', message: /Cannot receive\(\): the simulated connection is closed/ })
  t.same(await bye.disconnect(), { code: 4000, reason: 'bye' }, 'disconnect() after a server close resolves with it')

  const queued = simulate(Counter, general)
  await queued.connect()
  const closing = queued.receive({ type: 'bye' })
  const after = queued.receive({ type: 'add', payload: { n: 1 } })
  await closing
  t.same(await after, [], 'a frame queued behind the close is never handled')

  const kicked = simulate(Counter, general)
  await kicked.connect()
  await kicked.ws.disconnect(kicked.connection.id, 4005, 'kicked')
  t.same(await kicked.disconnect(), { code: 4005, reason: 'kicked' }, 'a close from app.ws while idle')

  const refused = simulate(Counter, general)
  await refused.connect()
  t.same(await refused.receive({ type: 'refuse' }), [{ type: 'error', error: { code: 'NOPE', message: 'not allowed', tag: 'refuse' } }])
  t.same(refused.closed, { code: 4001, reason: 'not allowed' })

  const cut = simulate(Counter, general)
  await cut.connect()
  const before = disconnects.length
  await cut.receive({ type: 'cut' })
  await cut.disconnect()
  t.same(cut.closed, { code: 1006, reason: '' })
  t.same(disconnects.slice(before), [1006])
})

t.test('runs frames one at a time in order, even when receive() is not awaited', async (t) => {
  const sim = simulate(Counter, general)
  const connecting = sim.connect()
  const first = sim.receive({ type: 'slow' })
  const second = sim.receive({ type: 'add', payload: { n: 1 } })
  await connecting
  t.same(await first, [{ type: 'slow done' }])
  t.same(await second, [{ type: 'count', payload: 1 }])
  const slow = sim.receive({ type: 'slow' })
  const closed = sim.disconnect()
  t.same(await slow, [{ type: 'slow done' }], 'a disconnect waits for the message in flight')
  t.same(await closed, { code: 1000, reason: '' })
})

t.test('reports refusals with their close: onConnect false, a hook, a ClientError, a constructor that throws', async (t) => {
  const nobody = simulate(Counter, { params: { room: 'general' } })
  t.same(await nobody.connect(), { accepted: false, close: { code: 1008, reason: 'connection refused' } })
  t.same(await nobody.receive({ type: 'add', payload: { n: 1 } }).catch((e: Error) => e.message), 'Cannot receive(): the simulated connection is closed')
  t.same(await nobody.disconnect(), { code: 1008, reason: 'connection refused' })
  t.same(nobody.sent, [])

  const hooked = simulate(Counter, { ...general, hooks: { beforeConnect: (ctx) => ctx.refuse(4003, 'go away') } })
  t.same(await hooked.connect(), { accepted: false, close: { code: 4003, reason: 'go away' } })

  class Picky extends WebSocketResource {
    override onConnect () { throw new ClientError('FULL', 'room is full', { close: 4009 }) }
  }
  const picky = simulate(Picky)
  const outcome = await picky.connect()
  t.match(outcome, { accepted: false, close: { code: 4009, reason: 'room is full' } })
  t.type(outcome.error, ClientError)
  t.same(picky.sent, [{ type: 'error', error: { code: 'FULL', message: 'room is full' } }])

  class Broken extends WebSocketResource {
    constructor () {
      super()
      throw new Error('cannot build')
    }
  }
  const broken = simulate(Broken)
  const failed = await broken.connect()
  t.match(failed, { accepted: false, error: { message: 'cannot build' }, close: { code: 1011, reason: 'internal server error' } })
  t.throws(() => broken.resource, { code: 'FST_PACHINKO_TESTING_BAD_STATE', message: /has no resource: it could not be made/ })
  t.match(broken.logs, [{ level: 'error', msg: 'could not create the resource for a connection' }])

  class Closer extends WebSocketResource {
    override onConnect () { this.close(4100, 'changed my mind') }
  }
  const closer = simulate(Closer)
  t.same(await closer.connect(), { accepted: true }, 'onConnect accepted, then closed the connection itself')
  t.same(await closer.disconnect(), { code: 4100, reason: 'changed my mind' })
})

t.test('injects services and route args, through the container as a route would', async (t) => {
  class Clock { now () { return 42 } }
  @injectable()
  class Timed extends WebSocketResource {
    static convention = 'any' as const
    constructor (private readonly prefix: string, private readonly clock: Clock, @inject('greeting') private readonly greeting: string, readonly ws2: ConnectionManager) { super() }
    onTime () { this.send({ type: 'time', payload: `${this.prefix}${this.greeting}${this.clock.now()}` }) }
  }
  const sim = simulate(Timed, { args: ['at '], services: new Map<Token, unknown>([[Clock, new Clock()], ['greeting', 'hi ']]) })
  await sim.connect()
  t.same(await sim.receive({ type: 'time' }), [{ type: 'time', payload: 'at hi 42' }])
  t.equal(sim.resource.ws2, sim.ws, 'the ConnectionManager is injectable, as in an app')

  t.throws(() => simulate(Timed, { args: ['at '], services: [[Clock, new Clock()]] }), { code: 'FST_PACHINKO_DI_MISSING_SERVICE' }, 'a missing service fails at simulate(), like addWebSocketRoute')

  @injectable()
  class Grumpy extends WebSocketResource {
    constructor (readonly clock: Clock) {
      super()
      throw new Error('not today')
    }
  }
  t.match(await simulate(Grumpy, { services: [[Clock, new Clock()]] }).connect(), { accepted: false, error: { message: 'not today' }, close: { code: 1011 } },
    'a resource that fails once its services are injected refuses with 1011')
})

t.test('runs route hooks and the resource\'s static hooks around messages', async (t) => {
  const seen: string[] = []
  class Hooked extends Counter {
    static hooks = { afterMessage: (ctx: { tag: string | undefined, dropped: boolean }) => { seen.push(`after ${ctx.tag} ${ctx.dropped}`) } }
  }
  const sim = simulate(Hooked, {
    ...general,
    hooks: { beforeMessage: (ctx) => { if (ctx.tag === 'shout') ctx.drop() } }
  })
  await sim.connect()
  t.same(await sim.receive({ type: 'shout' }), [])
  t.same(sim.broadcasts, [], 'dropped before the handler')
  await sim.receive({ type: 'add', payload: { n: 1 } })
  t.same(seen, ['after shout true', 'after add false'])
})

t.test('refuses misuse with coded errors that say what to do', async (t) => {
  class NotAResource {}
  t.throws(() => simulate(NotAResource as never), { code: 'FST_PACHINKO_ROUTE_NOT_RESOURCE', message: /class NotAResource is not a WebSocketResource/ })
  t.throws(() => simulate({} as never), { code: 'FST_PACHINKO_ROUTE_NOT_RESOURCE', message: /object is not/ })
  for (const [options, pattern] of [
    [null, /"simulate\(\) options": must be an object/],
    [{ params: 'room' }, /"params": must be an object/],
    [{ query: null }, /"query": must be an object/],
    [{ args: 'x' }, /"args": must be an array/],
    [{ services: 3 }, /"services": must be a Map/],
    [{ services: null }, /"services"/],
    [{ discriminator: '' }, /"discriminator": must be a non-empty string/],
    [{ discriminator: 1 }, /"discriminator"/],
    [{ replyField: '' }, /"replyField": must be a non-empty string/],
    [{ replyField: 7 }, /"replyField"/],
    [{ hooks: { onMessage () {} } }, /"hooks.onMessage": is not a hook event/]
  ] as Array<[unknown, RegExp]>) {
    t.throws(() => simulate(Counter, options as never), { code: 'FST_PACHINKO_OPTION_INVALID', message: pattern })
  }
  class Twice extends WebSocketResource {
    @handlesMessage('a') one () {}
    @handlesMessage('a') two () {}
  }
  t.throws(() => simulate(Twice), { code: 'FST_PACHINKO_HANDLER_DUPLICATE_TAG' }, 'declaration errors come at simulate()')

  const sim = simulate(Counter, general)
  t.same([...sim.rooms], [])
  t.throws(() => sim.resource, { code: 'FST_PACHINKO_TESTING_BAD_STATE', message: /sim.resource: the simulated connection is not connected yet; await sim.connect\(\) first/ })
  t.throws(() => sim.connection, { code: 'FST_PACHINKO_TESTING_BAD_STATE' })
  await t.rejects(sim.receive({ type: 'add' }), { message: /Cannot receive\(\): the simulated connection is not connected yet/ })
  await t.rejects(sim.disconnect(), { message: /Cannot disconnect\(\)/ })
  await sim.connect()
  await t.rejects(sim.connect(), { message: /Cannot connect\(\): the simulated connection was already connected/ })
  const [frame] = await sim.receive({ type: 'app' })
  t.equal((frame as ErrorFrame).error.code, 'INTERNAL', 'this.app has no Fastify behind it')
  t.match(sim.logs.at(-1), { level: 'error', err: { code: 'FST_PACHINKO_TESTING_BAD_STATE', message: /has no Fastify instance; test code that needs one with testApp\(\) and connect\(\)/ } })
})

t.test('takes a url, a discriminator, strictness, proto handling and a logger of your own', async (t) => {
  class Events extends WebSocketResource {
    static schema = Type.Object({ event: Type.Literal('note'), payload: Type.Object({ text: Type.String() }) })
    onNote (msg: { payload: { text: string } }) { this.send({ event: 'noted', payload: msg.payload, url: this.request.url }) }
  }
  const lines: LogEntry[] = []
  const sim = simulate(Events, { discriminator: 'event', strict: false, onProtoPoisoning: 'remove', url: '/events?x=1', logger: recordingLogger(lines) })
  await sim.connect()
  t.same(await sim.receive({ event: 'note', payload: { text: 'a', extra: 1 } }), [{ event: 'noted', payload: { text: 'a', extra: 1 }, url: '/events?x=1' }])
  t.same(await sim.receive('{"event":"note","payload":{"text":"b","__proto__":{"x":1}}}'), [{ event: 'noted', payload: { text: 'b' }, url: '/events?x=1' }])
  t.equal((await sim.receive({ type: 'note' }) as ErrorFrame[])[0].event, 'error', 'error frames carry the discriminator')
  t.ok(lines.length > 0, 'your logger got the lines')
  t.same(sim.logs, [], 'and sim.logs stays empty')
})

t.test('records log lines the way pino would shape them', async (t) => {
  const lines: LogEntry[] = []
  const log = recordingLogger(lines, { a: 1 })
  log.info('text only')
  log.warn({ n: 2 }, 'with fields')
  log.error(new Error('bare error'))
  log.debug({ only: 'fields' })
  log.child({ b: 2 }).trace({ c: 3 }, 'child')
  log.fatal(7 as never)
  log.silent('ignored')
  t.equal((log as unknown as { isLevelEnabled: (level: string) => boolean }).isLevelEnabled('trace'), true)
  t.match(lines, [
    { a: 1, level: 'info', msg: 'text only' },
    { a: 1, n: 2, level: 'warn', msg: 'with fields' },
    { a: 1, level: 'error', msg: '', err: { message: 'bare error' } },
    { a: 1, only: 'fields', level: 'debug', msg: '' },
    { a: 1, b: 2, c: 3, level: 'trace', msg: 'child' },
    { a: 1, level: 'fatal', msg: '' }
  ])
  t.equal(lines.length, 6)
})
