import 'reflect-metadata'
import t from 'tap'
import { ClientError, WebSocketResource } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

t.test('gives each connection its own instance with params, request, connection, state and log', async (t) => {
  const instances: Room[] = []
  class Room extends WebSocketResource<{ room: string }, { count: number }> {
    static convention = 'any' as const
    readonly seenInConstructor: string
    constructor () {
      super()
      this.seenInConstructor = this.params.room
      instances.push(this)
    }

    onIncrement () {
      this.state.count = (this.state.count ?? 0) + 1
      this.log.info({ count: this.state.count }, 'incremented')
      this.send({ type: 'count', payload: { room: this.params.room, count: this.state.count, id: this.connection.id, header: this.request.headers['x-test'] } })
    }
  }
  const app = await build(t)
  app.addWebSocketRoute('/rooms/:room', Room)
  const a = await connect(app, '/rooms/blue', { headers: { 'x-test': 'a' } })
  const b = await connect(app, '/rooms/red', { headers: { 'x-test': 'b' } })
  a.send({ type: 'increment' })
  a.send({ type: 'increment' })
  b.send({ type: 'increment' })
  type Count = { payload: { id: string } }
  const [, a2, b1] = [await a.expect<Count>('count'), await a.expect<Count>('count'), await b.expect<Count>('count')]
  t.match(a2.payload, { room: 'blue', count: 2, header: 'a' })
  t.match(b1.payload, { room: 'red', count: 1, header: 'b' })
  t.not(a2.payload.id, b1.payload.id)
  t.equal(instances.length, 2)
  t.same(instances.map((i) => i.seenInConstructor), ['blue', 'red'], 'params are there in the constructor')
  t.equal(instances[0].ws, app.ws)
  t.equal(instances[0].app, app)
  const line = app.logs.find((l) => l.msg === 'incremented')
  t.match(line, { connId: a2.payload.id, route: '/rooms/:room', count: 1 }, 'the child logger names connection and route')
})

t.test('lets state be swapped for an external store', async (t) => {
  const store = { hits: 0 }
  class Stored extends WebSocketResource<Record<string, string>, { hits: number }> {
    static convention = 'any' as const
    override onConnect () { this.state = store }
    onHit () { this.state.hits++; this.send({ type: 'hits', payload: store.hits }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/s', Stored)
  const client = await connect(app, '/s')
  client.send({ type: 'hit' })
  t.equal((await client.expect('hits')).payload, 1)
})

t.test('refuses with 1008 when onConnect returns false, without calling onDisconnect', async (t) => {
  let disconnects = 0
  class Picky extends WebSocketResource {
    override async onConnect () {
      return (this.request.query as { ok?: string }).ok === 'yes'
    }

    override onDisconnect () { disconnects++ }
  }
  const app = await build(t)
  app.addWebSocketRoute('/picky', Picky)
  const refused = await connect(app, '/picky')
  t.same(await refused.closed, { code: 1008, reason: 'connection refused' })
  const accepted = await connect(app, '/picky', { query: { ok: 'yes' } })
  await accepted.close()
  await until(() => app.ws.size === 0)
  t.equal(disconnects, 1, 'only the accepted connection got onDisconnect')
  t.ok(app.logs.some((l) => l.msg === 'connection refused by onConnect' && l.level === 30))
})

t.test('refuses with 1008 and an error log when onConnect throws', async (t) => {
  let disconnects = 0
  class Broken extends WebSocketResource {
    override onConnect (): boolean { throw new Error('database down') }
    override onDisconnect () { disconnects++ }
  }
  const app = await build(t)
  app.addWebSocketRoute('/broken', Broken)
  const client = await connect(app, '/broken')
  t.same(await client.closed, { code: 1008, reason: 'connection refused' })
  t.notMatch(JSON.stringify(client.trace), /database down/)
  const line = app.logs.find((l) => l.level === 50)
  t.match(line, { msg: /onConnect failed/, err: { message: 'database down' } })
  await until(() => app.ws.size === 0)
  t.equal(disconnects, 0)
})

t.test('sends a ClientError from onConnect, then closes with its code', async (t) => {
  class Auth extends WebSocketResource {
    override onConnect (): boolean { throw new ClientError('UNAUTHORIZED', 'token expired', { close: 4001 }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/auth', Auth)
  const client = await connect(app, '/auth')
  t.same((await client.expect('error')).error, { code: 'UNAUTHORIZED', message: 'token expired' })
  t.same(await client.closed, { code: 4001, reason: 'token expired' })
})

t.test('buffers frames that arrive while onConnect runs and dispatches them after it, in order', async (t) => {
  const TOTAL = 10000
  const received: number[] = []
  let connectDone = false
  let lateFrames = 0
  class Slow extends WebSocketResource {
    static convention = 'any' as const
    override async onConnect () {
      await new Promise((resolve) => setTimeout(resolve, 50))
      connectDone = true
      return true
    }

    onN (msg: { payload: number }) {
      if (!connectDone) lateFrames++
      received.push(msg.payload)
      if (received.length === TOTAL) this.send({ type: 'all' })
    }
  }
  const app = await build(t)
  app.addWebSocketRoute('/slow', Slow)
  const client = await connect(app, '/slow')
  for (let i = 0; i < TOTAL; i++) client.send({ type: 'n', payload: i })
  await client.expect('all', { timeout: 20000 })
  t.equal(lateFrames, 0, 'no frame was dispatched before onConnect finished')
  t.equal(received.length, TOTAL)
  t.ok(received.every((n, i) => n === i), 'in order')
})

t.test('calls onDisconnect with the close code and reason, after the messages received before the close', async (t) => {
  const events: string[] = []
  class Tracked extends WebSocketResource {
    static convention = 'any' as const
    async onNote (msg: { payload: string }) {
      await new Promise((resolve) => setTimeout(resolve, 5))
      events.push(msg.payload)
    }

    override onDisconnect (code: number, reason: string) { events.push(`closed ${code} ${reason}`) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/t', Tracked)
  const client = await connect(app, '/t')
  client.send({ type: 'note', payload: 'a' })
  client.send({ type: 'note', payload: 'b' })
  await client.close(4000, 'done here')
  await until(() => events.length === 3)
  t.same(events, ['a', 'b', 'closed 4000 done here'])
})

t.test('logs an onDisconnect that throws and still unregisters the connection', async (t) => {
  class Faulty extends WebSocketResource {
    override async onConnect () { await this.join('r') }
    override onDisconnect () { throw new Error('cleanup failed') }
  }
  const app = await build(t)
  app.addWebSocketRoute('/f', Faulty)
  const client = await connect(app, '/f')
  await client.close()
  await until(() => app.ws.size === 0)
  t.equal(await app.ws.roomSize('r'), 0)
  t.ok(app.logs.some((l) => l.level === 50 && l.msg === 'onDisconnect failed'))
})

t.test('lets onUnhandled, onValidationError and onError be overridden', async (t) => {
  class Custom extends WebSocketResource {
    static schema = undefined
    static convention = 'any' as const
    override onUnhandled (raw: string | Buffer, frame: { code: string }) {
      this.send({ type: 'custom-unhandled', payload: { code: frame.code, raw: raw.toString() } })
    }

    override onError (error: unknown) {
      this.send({ type: 'custom-error', payload: (error as Error).message })
    }

    onFail () { throw new Error('visible on purpose') }
  }
  const app = await build(t)
  app.addWebSocketRoute('/c', Custom)
  const client = await connect(app, '/c')
  client.sendRaw('nope')
  t.same((await client.expect('custom-unhandled')).payload, { code: 'BAD_JSON', raw: 'nope' })
  client.sendRaw(Buffer.from('bin'))
  t.same((await client.expect('custom-unhandled')).payload, { code: 'UNSUPPORTED_DATA', raw: 'bin' })
  client.send({ type: 'fail' })
  t.equal((await client.expect('custom-error')).payload, 'visible on purpose')
})

t.test('logs an onError that itself fails, and carries on', async (t) => {
  class Worse extends WebSocketResource {
    static convention = 'any' as const
    override async onError () { throw new Error('handler of handlers failed') }
    onFail () { throw new Error('first') }
    onPing () { this.send({ type: 'pong' }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/w', Worse)
  const client = await connect(app, '/w')
  client.send({ type: 'fail' })
  client.send({ type: 'ping' })
  await client.expect('pong')
  await until(() => app.logs.some((l) => l.msg === 'onError failed'))
  t.pass('logged')
})

t.test('creates the resource with a factory, sync or async, receiving context and args', async (t) => {
  class Greeter extends WebSocketResource {
    static convention = 'any' as const
    constructor (readonly greeting: string) { super() }
    onHi () { this.send({ type: 'greeting', payload: `${this.greeting} ${(this.params as { who: string }).who}` }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/sync/:who', (ctx, greeting: string) => new Greeter(`${greeting} (${ctx.params.who})`), { args: ['hello'] })
  app.addWebSocketRoute('/async/:who', async (_ctx, greeting: string) => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    return new Greeter(greeting)
  }, { args: ['hey'] })
  const sync = await connect(app, '/sync/ann')
  sync.send({ type: 'hi' })
  t.equal((await sync.expect('greeting')).payload, 'hello (ann) ann')
  const later = await connect(app, '/async/bob')
  later.send({ type: 'hi' })
  t.equal((await later.expect('greeting')).payload, 'hey bob')
})

t.test('closes with 1011 when a factory fails or returns something else', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/throws', () => { throw new Error('no resource today') })
  app.addWebSocketRoute('/wrong', () => ({}) as never)
  const a = await connect(app, '/throws')
  t.equal((await a.closed).code, 1011)
  const b = await connect(app, '/wrong')
  t.equal((await b.closed).code, 1011)
  t.equal(app.logs.filter((l) => l.level === 50 && /could not create the resource/.test(l.msg)).length, 2)
  await until(() => app.ws.size === 0)
})

t.test('passes route args to the constructor: one class, many configurations', async (t) => {
  class Limited extends WebSocketResource {
    static convention = 'any' as const
    constructor (private readonly limit: number, private readonly label: string) { super() }
    onInfo () { this.send({ type: 'info', payload: { limit: this.limit, label: this.label } }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/small', Limited, { args: [10, 'small'] })
  app.addWebSocketRoute('/large', Limited, { args: [1000, 'large'] })
  const small = await connect(app, '/small')
  const large = await connect(app, '/large')
  small.send({ type: 'info' })
  large.send({ type: 'info' })
  t.same((await small.expect('info')).payload, { limit: 10, label: 'small' })
  t.same((await large.expect('info')).payload, { limit: 1000, label: 'large' })
})

t.test('refuses with 1008 for a ClientError without a close code, and cleans up a client that left during onConnect', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  class Plain extends WebSocketResource {
    override async onConnect () {
      if ((this.request.query as { wait?: string }).wait === 'yes') { await gate; return false }
      throw new ClientError('NOT_NOW', 'try later')
    }
  }
  const app = await build(t)
  app.addWebSocketRoute('/p', Plain)
  const client = await connect(app, '/p')
  t.equal((await client.expect('error')).error.code, 'NOT_NOW')
  t.same(await client.closed, { code: 1008, reason: 'try later' })
  const leaving = await connect(app, '/p', { query: { wait: 'yes' } })
  const [server] = app.ws.local()
  leaving.send({ type: 'early' })
  leaving.sendRaw(Buffer.from([1, 2]))
  await leaving.close()
  await until(() => app.ws.metrics.messagesIn === 2 && server.socket.readyState === 3, 2000, 'the server to see the close')
  release()
  await until(() => app.ws.size === 0)
  t.pass('released without onDisconnect')
})

t.test('drops frames that arrive after a refusal', async (t) => {
  let dispatched = 0
  class Refuser extends WebSocketResource {
    static convention = 'any' as const
    override async onConnect () { await new Promise((resolve) => setTimeout(resolve, 10)); return false }
    onAny () { dispatched++ }
  }
  const app = await build(t)
  app.addWebSocketRoute('/r', Refuser)
  const client = await connect(app, '/r')
  const spam = setInterval(() => { if (client.socket.readyState === 1) client.send({ type: 'any' }) }, 1)
  await client.closed
  clearInterval(spam)
  t.equal(dispatched, 0)
})

t.test('queues binary frames during onConnect and resumes a paused socket as an async queue drains', async (t) => {
  const seen: string[] = []
  let busy = 0
  class Slow extends WebSocketResource {
    static convention = 'any' as const
    override async onConnect () { await new Promise((resolve) => setTimeout(resolve, 30)) }
    override onUnhandled (raw: string | Buffer) { seen.push(Buffer.isBuffer(raw) ? 'binary' : 'text') }
    async onN () { busy++; await new Promise((resolve) => setImmediate(resolve)); if (busy === 2000) this.send({ type: 'done' }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/s', Slow)
  const client = await connect(app, '/s')
  client.sendRaw(Buffer.from([9]))
  for (let i = 0; i < 2000; i++) client.send({ type: 'n' })
  await client.expect('done', { timeout: 10000 })
  t.same(seen, ['binary'])
})

t.test('logs a socket error that is not a protocol error at debug', async (t) => {
  class Plain extends WebSocketResource {}
  const app = await build(t)
  app.addWebSocketRoute('/p', Plain)
  await connect(app, '/p')
  const [connection] = app.ws.local()
  connection.socket.emit('error', Object.assign(new Error('reset by peer'), { code: 'ECONNRESET' }))
  t.ok(app.logs.some((l) => l.level === 20 && l.msg === 'socket error'))
})

t.test('cuts a close reason to the protocol\'s 123 bytes', async (t) => {
  class Long extends WebSocketResource {
    override onConnect (): boolean { throw new ClientError('LONG', 'é'.repeat(100), { close: 4000 }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/l', Long)
  const client = await connect(app, '/l')
  const { code, reason } = await client.closed
  t.equal(code, 4000)
  t.ok(Buffer.byteLength(reason) <= 123)
  t.match(reason, /^é+\.\.\.$/)
})

t.test('excludes self as well as the given ids, and answers a failing onUnhandled through onError', async (t) => {
  class Room extends WebSocketResource {
    static convention = 'any' as const
    override async onConnect () { await this.join('r'); this.send({ type: 'id', payload: this.connection.id }) }
    async onSay (msg: { payload: string | string[] }) { await this.broadcast('r', { type: 'said' }, { excludeSelf: true, exclude: msg.payload }) }
    override onUnhandled (): unknown { throw new Error('unhandled handler broke') }
  }
  const app = await build(t)
  app.addWebSocketRoute('/r', Room)
  const [a, b, c] = [await connect(app, '/r'), await connect(app, '/r'), await connect(app, '/r')]
  await a.expect('id')
  const bId = (await b.expect('id')).payload
  await c.expect('id')
  a.send({ type: 'say', payload: bId })
  await c.expect('said')
  a.sendRaw(Buffer.from([0]))
  t.same((await a.expect('error')).error, { code: 'INTERNAL', message: 'internal server error' })
  a.send({ type: 'say', payload: 'nobody' })
  await c.expect('said')
  await b.expect('said')
  a.send({ type: 'say', payload: [bId] })
  await c.expect('said')
  const said = (client: typeof a) => client.trace.filter((e) => e.direction === 'in' && (e.data as { type?: string }).type === 'said').length
  t.same([said(a), said(b), said(c)], [0, 1, 3], 'a never (excludeSelf); b only when not excluded by id')
})

t.test('logs an onError that throws synchronously', async (t) => {
  class Worst extends WebSocketResource {
    static convention = 'any' as const
    override onError (): unknown { throw new Error('sync failure in onError') }
    onFail () { throw new Error('first') }
    onFailOddly () { throw 'a bare string' } // eslint-disable-line no-throw-literal
    onPing () { this.send({ type: 'pong' }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/w', Worst)
  const client = await connect(app, '/w')
  client.send({ type: 'fail' })
  client.send({ type: 'failOddly' })
  client.send({ type: 'ping' })
  await client.expect('pong')
  const lines = app.logs.filter((l) => l.msg === 'onError failed')
  t.match(lines, [{ err: { message: 'sync failure in onError' }, handlerError: 'first' }, { handlerError: 'a bare string' }])
})

t.test('sends raw frames and reads labels on the connection handle', async (t) => {
  class Raw extends WebSocketResource {
    static convention = 'any' as const
    onRaw () {
      this.connection.sendRaw('{"type":"text"}')
      this.connection.sendRaw(Buffer.from([1, 2, 3]))
      this.connection.sendRaw(Buffer.from('{"type":"as-text"}'), { binary: false })
    }
  }
  const app = await build(t)
  app.addWebSocketRoute('/raw', Raw)
  const client = await connect(app, '/raw')
  const [connection] = app.ws.local()
  t.same([...connection.labels], [])
  await app.ws.label(connection, 'vip')
  t.same([...connection.labels], ['vip'])
  client.send({ type: 'raw' })
  await client.expect('text')
  t.same([...(await client.receive() as unknown as Buffer)], [1, 2, 3])
  await client.expect('as-text')
  await client.close()
  t.equal(connection.sendRaw('late'), false)
})

t.test('drops a frame that arrives after a refusal, before the close completes', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let dispatched = 0
  class Refuser extends WebSocketResource {
    static convention = 'any' as const
    override async onConnect () { await gate; return false }
    onAny () { dispatched++ }
  }
  const app = await build(t)
  app.addWebSocketRoute('/r', Refuser)
  const client = await connect(app, '/r')
  client.socket.pause()
  const [connection] = app.ws.local()
  release()
  await until(() => app.logs.some((l) => l.msg === 'connection refused by onConnect'))
  connection.socket.emit('message', Buffer.from('{"type":"any"}'), false)
  client.socket.resume()
  t.equal((await client.closed).code, 1008)
  t.equal(dispatched, 0)
})

t.test('refuses when a synchronous onConnect returns false', async (t) => {
  class No extends WebSocketResource { override onConnect () { return false } }
  const app = await build(t)
  app.addWebSocketRoute('/no', No)
  t.equal((await (await connect(app, '/no')).closed).code, 1008)
})
