import 'reflect-metadata'
import t from 'tap'
import { Connection, ConnectionManager, Container, WebSocketResource, inject, injectable, subroute } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

class Clock { now () { return 42 } }

@injectable()
class Greeter {
  constructor (readonly clock: Clock) {}
  greet (name: string) { return `hello ${name} at ${this.clock.now()}` }
}

let sessions = 0
class Session {
  readonly id = ++sessions
  disposed = false;
  [Symbol.asyncDispose] = async () => { this.disposed = true }
}

t.test('injects constructor parameters by type and by token, after the route args', async (t) => {
  @injectable()
  class Room extends WebSocketResource {
    static convention = 'any' as const
    constructor (readonly limit: number, readonly greeter: Greeter, @inject('motd') readonly motd: string, readonly ws2: ConnectionManager, readonly me: Connection) { super() }
    onHi () { this.send({ type: 'hi', payload: { limit: this.limit, greeting: this.greeter.greet('ann'), motd: this.motd, sameWs: this.ws2 === this.ws, me: this.me === this.connection } }) }
  }
  const app = await build(t)
  app.ws.container.register(Clock).register(Greeter).register('motd', 'be nice')
  app.addWebSocketRoute('/room', Room, { args: [10] as never })
  const client = await connect(app, '/room')
  client.send({ type: 'hi' })
  t.same((await client.expect('hi')).payload, { limit: 10, greeting: 'hello ann at 42', motd: 'be nice', sameWs: true, me: true })
})

t.test('shares singletons, gives each connection its own connection-scoped services and disposes them on disconnect', async (t) => {
  const made: Session[] = []
  @injectable()
  class Uses extends WebSocketResource {
    static convention = 'any' as const
    constructor (readonly clock: Clock, readonly session: Session) { super(); made.push(session) }
    onWhich () { this.send({ type: 'which', payload: this.session.id }) }
  }
  const app = await build(t)
  app.ws.container.register(Clock).register(Session, undefined, { scope: 'connection' })
  app.addWebSocketRoute('/u', Uses)
  const a = await connect(app, '/u')
  const b = await connect(app, '/u')
  a.send({ type: 'which' })
  b.send({ type: 'which' })
  t.not((await a.expect('which')).payload, (await b.expect('which')).payload)
  t.equal(await app.ws.container.resolve(Clock), await app.ws.container.resolve(Clock), 'one singleton')
  await a.close()
  await until(() => made[0].disposed)
  t.equal(made[1].disposed, false)
})

t.test('calls a dispose option, and disposes singletons on close', async (t) => {
  const disposed: string[] = []
  @injectable()
  class Uses extends WebSocketResource {
    constructor (@inject('db') readonly db: { name: string }, @inject('tx') readonly tx: { name: string }) { super() }
  }
  const app = await build(t)
  app.ws.container.register('db', () => ({ name: 'db' }), { dispose: (v) => { disposed.push(v.name) } })
  app.ws.container.register('tx', async () => ({ name: 'tx' }), { scope: 'connection', dispose: async (v) => { disposed.push(v.name) } })
  app.addWebSocketRoute('/u', Uses)
  const client = await connect(app, '/u')
  await client.close()
  await until(() => disposed.includes('tx'))
  await app.close()
  t.same(disposed, ['tx', 'db'])
})

t.test('fails at declaration for a missing service or an untyped parameter, naming both', async (t) => {
  @injectable()
  class NeedsClock extends WebSocketResource { constructor (readonly clock: Clock) { super() } }
  @injectable()
  class NeedsToken extends WebSocketResource { constructor (@inject('cache') readonly cache: unknown) { super() } }
  class NotInjectable extends WebSocketResource { constructor (readonly clock: Clock) { super() } }
  @injectable()
  class Untyped extends WebSocketResource { constructor (readonly anything: unknown) { super() } }
  const app = await build(t)
  t.throws(() => app.addWebSocketRoute('/a', NeedsClock), { code: 'FST_PACHINKO_DI_MISSING_SERVICE', message: /Clock, which NeedsClock needs/ })
  t.throws(() => app.addWebSocketRoute('/b', NeedsToken), { code: 'FST_PACHINKO_DI_MISSING_SERVICE', message: /cache, which NeedsToken/ })
  t.throws(() => app.addWebSocketRoute('/c', NotInjectable as never), { code: 'FST_PACHINKO_DI_UNTYPED_PARAMETER', message: /#0 of NotInjectable/ })
  t.throws(() => app.addWebSocketRoute('/d', Untyped), { code: 'FST_PACHINKO_DI_UNTYPED_PARAMETER', message: /#0 of Untyped/ })
  app.ws.container.register(Clock)
  app.addWebSocketRoute('/a', NeedsClock)
  app.addWebSocketRoute('/c', NotInjectable, { args: [new Clock()] })
})

t.test('closes with 1011 and logs when a service cannot be made at connect', async (t) => {
  @injectable()
  class Deep { constructor (@inject('missing') readonly missing: unknown) {} }
  @injectable()
  class Uses extends WebSocketResource { constructor (readonly deep: Deep) { super() } }
  @injectable()
  class Broken extends WebSocketResource { constructor (@inject('boom') readonly boom: unknown) { super() } }
  const app = await build(t)
  app.ws.container.register(Deep).register('boom', () => { throw new Error('cannot build boom') })
  app.addWebSocketRoute('/u', Uses)
  app.addWebSocketRoute('/b', Broken)
  t.equal((await (await connect(app, '/u')).closed).code, 1011)
  t.equal((await (await connect(app, '/b')).closed).code, 1011)
  const errors = app.logs.filter((l) => l.level === 50 && /could not create the resource/.test(l.msg))
  t.match(errors[0], { err: { code: 'FST_PACHINKO_DI_MISSING_SERVICE', message: /missing/ } })
  t.match(errors[1], { err: { message: 'cannot build boom' } })
})

t.test('refuses a connection-scoped service outside a connection, and bad registrations', async (t) => {
  const container = new Container()
  container.register(Session, undefined, { scope: 'connection' })
  await t.rejects(container.resolve(Session), { code: 'FST_PACHINKO_DI_CAPTIVE', message: /Session is connection-scoped/ })
  @injectable()
  class Captive { constructor (readonly session: Session) {} }
  container.register(Captive)
  await t.rejects(container.resolve(Captive), { code: 'FST_PACHINKO_DI_CAPTIVE' })
  t.throws(() => container.register(Session), { code: 'FST_PACHINKO_OPTION_INVALID', message: /already registered/ })
  t.throws(() => container.register(5 as never, 1), { message: /"token"/ })
  t.throws(() => container.register('x', 1, { scope: 'request' as never }), { message: /"scope"/ })
  const fn = () => 'a function value'
  container.registerValue('fn', fn)
  t.equal(await container.resolve<typeof fn>('fn'), fn)
  await t.rejects(container.resolve('nothing'), { code: 'FST_PACHINKO_DI_MISSING_SERVICE', message: /nothing, which the app needs/ })
  const failing = new Container()
  failing.register('a', () => ({}), { dispose: () => { throw new Error('a failed') } })
  failing.register('b', () => ({}), { dispose: () => { throw new Error('b failed') } })
  await failing.resolve('a')
  await failing.resolve('b')
  await t.rejects(failing.dispose(), AggregateError)
  const one = new Container()
  one.register('a', () => ({ [Symbol.dispose]: () => { throw new Error('sync dispose failed') } }))
  await one.resolve('a')
  await t.rejects(one.dispose(), { message: 'sync dispose failed' })
})

t.test('retries a singleton whose factory failed', async (t) => {
  const container = new Container()
  let attempts = 0
  container.register('flaky', () => { if (++attempts === 1) throw new Error('first time'); return 'ok' })
  await t.rejects(container.resolve('flaky'))
  t.equal(await container.resolve('flaky'), 'ok')
})

t.test('lets resourceFactory make resources: a recipe for another container', async (t) => {
  class Handmade extends WebSocketResource {
    static convention = 'any' as const
    constructor (readonly label: string) { super() }
    onLabel () { this.send({ type: 'label', payload: this.label }) }
  }
  class Child extends WebSocketResource { static convention = 'any' as const; onLabel () { this.send({ type: 'label', payload: 'child' }) } }
  class WithChild extends WebSocketResource { static subroutes = [subroute('child', Child)] }
  const seen: string[] = []
  const app = await build(t, {
    resourceFactory: async (make, ctx) => {
      seen.push(`${(ctx.resource as { name: string }).name}:${ctx.args.join(',')}:${ctx.parent === undefined ? 'root' : 'nested'}`)
      return ctx.resource === Handmade ? new Handmade(`made for ${ctx.params.id}`) : await make()
    }
  })
  app.addWebSocketRoute('/h/:id', Handmade, { args: ['ignored'] })
  app.addWebSocketRoute('/w', WithChild)
  app.addWebSocketRoute('/own', Handmade, { args: ['route default'], resourceFactory: async (make) => await make() })
  const h = await connect(app, '/h/7')
  h.send({ type: 'label' })
  t.equal((await h.expect('label')).payload, 'made for 7')
  const c = await connect(app, '/w/child')
  c.send({ type: 'label' })
  t.equal((await c.expect('label')).payload, 'child')
  const own = await connect(app, '/own')
  own.send({ type: 'label' })
  t.equal((await own.expect('label')).payload, 'route default')
  t.same(seen, ['Handmade:ignored:root', 'WithChild::root', 'Child::nested'])
  await t.rejects(async () => { const bad = (await import('fastify')).default(); await bad.register((await import('../lib/index.js')).default, { resourceFactory: 'x' as never }) }, { message: /"resourceFactory"/ })
  t.throws(() => app.addWebSocketRoute('/bad', Handmade, { args: ['x'], resourceFactory: 1 as never }), { message: /"resourceFactory"/ })
})

t.test('with a resourceFactory, a class needing services the built-in container lacks is declared; make() names the miss at connect', async (t) => {
  class Db { readonly name = 'their db' }
  @injectable()
  class Theirs extends WebSocketResource {
    static convention = 'any' as const
    constructor (readonly db: Db) { super() }
    onWho () { this.send({ type: 'who', payload: this.db.name }) }
  }
  class Untyped extends WebSocketResource {
    constructor (readonly anything: unknown) { super() }
  }
  const app = await build(t, { resourceFactory: async (make, ctx) => ctx.resource === Theirs ? new Theirs(new Db()) : await make() })
  app.addWebSocketRoute('/theirs', Theirs)
  app.addWebSocketRoute('/untyped', Untyped)
  const client = await connect(app, '/theirs')
  client.send({ type: 'who' })
  t.equal((await client.expect('who')).payload, 'their db')
  const untyped = await connect(app, '/untyped')
  t.equal((await untyped.closed).code, 1011)
  t.match(app.logs.find((l) => l.level === 50), { err: { code: 'FST_PACHINKO_DI_UNTYPED_PARAMETER' } })
  const strict = await build(t)
  t.throws(() => strict.addWebSocketRoute('/theirs', Theirs), { code: 'FST_PACHINKO_DI_MISSING_SERVICE' }, 'without a factory, the miss is a declaration error')
})

t.test('names the connection when a service it asks for at run time is missing, and an untyped service parameter', async (t) => {
  @injectable()
  class Untyped { constructor (readonly anything: unknown) {} }
  const container = new Container()
  container.register(Untyped)
  await t.rejects(container.resolve(Untyped), { code: 'FST_PACHINKO_DI_UNTYPED_PARAMETER', message: /#0 of Untyped/ })
  class Plain extends WebSocketResource { static convention = 'any' as const; onPing () { this.send({ type: 'pong' }) } }
  const app = await build(t, { resourceFactory: async (make, ctx) => { await ctx.container.resolve('not-registered'); return await make() } })
  app.addWebSocketRoute('/p', Plain)
  const client = await connect(app, '/p')
  t.equal((await client.closed).code, 1011)
  t.match(app.logs.find((l) => l.level === 50), { err: { message: /not-registered, which a connection needs/ } })
})

t.test('refuses a string or symbol token registered without a provider', async (t) => {
  const container = new Container()
  t.throws(() => container.register('db'), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"provider": db is a string token/ })
  t.throws(() => container.register(Symbol('cache')), { code: 'FST_PACHINKO_OPTION_INVALID', message: /Symbol\(cache\) is a symbol token/ })
  t.equal(container.has('db'), false)
})

t.test('names a dependency cycle with a coded error instead of overflowing the stack or hanging', async (t) => {
  const container = new Container()
  container.register('a', async (r) => await r.resolve('b'))
  container.register('b', async (r) => await r.resolve('c'))
  container.register('c', async (r) => await r.resolve('a'))
  container.register('self', async (r) => await r.resolve('self'))
  await t.rejects(container.resolve('a'), { code: 'FST_PACHINKO_DI_CYCLE', message: /a → b → c → a/ })
  await t.rejects(container.resolve('self'), { code: 'FST_PACHINKO_DI_CYCLE', message: /self → self/ })
  const scope = container.scope(new Map())
  container.register('x', async (r) => await r.resolve('y'), { scope: 'connection' })
  container.register('y', async (r) => await r.resolve('x'), { scope: 'connection' })
  await t.rejects(scope.resolve('x'), { code: 'FST_PACHINKO_DI_CYCLE', message: /x → y → x/ })
  container.register('fine', async (r) => [await r.resolve('leaf'), await r.resolve('leaf')])
  container.register('leaf', 1)
  t.same(await container.resolve('fine'), [1, 1], 'the same service twice is not a cycle')
})

t.test('closes with 1011 and names the cycle when a resource needs services that depend on each other', async (t) => {
  @injectable()
  class Ping { constructor (@inject('pong') readonly pong: unknown) {} }
  @injectable()
  class Needy extends WebSocketResource { constructor (readonly ping: Ping) { super() } }
  const app = await build(t)
  app.ws.container.register(Ping).register('pong', async (r) => await r.resolve(Ping))
  app.addWebSocketRoute('/needy', Needy)
  const client = await connect(app, '/needy')
  t.equal((await client.closed).code, 1011)
  t.ok(app.logs.some((l) => l.level === 50 && /Ping → pong → Ping/.test((l.err as Error).message)))
})
