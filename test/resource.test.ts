import 'reflect-metadata'
import t from 'tap'
import { ClientError, WebSocketResource } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

t.test('gives each connection its own instance with params, request, connection, state and log', async (t) => {
  const instances: Room[] = []
  class Room extends WebSocketResource<{ room: string }, { count: number }> {
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
  const [, a2, b1] = [await a.expect('count'), await a.expect('count'), await b.expect('count')]
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
