import 'reflect-metadata'
import t from 'tap'
import { Type, type Static } from 'typebox'
import { WebSocketResource, handlesMessage, message, messages } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build } from './helpers/build.js'

const Echo = message('echo', { text: Type.String({ maxLength: 10 }) })

class EchoResource extends WebSocketResource {
  static convention = 'any' as const
  @handlesMessage('echo', Echo)
  echo (msg: Static<typeof Echo>) {
    this.send({ type: 'echoed', payload: msg.payload })
  }

  onPing () {
    this.send({ type: 'pong' })
  }

  onNewChatMessage (msg: { type: string }) {
    this.send({ type: 'gotChat', payload: { as: msg.type } })
  }
}

t.test('dispatches a decorated handler with its validated message', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/echo', EchoResource)
  const client = await connect(app, '/echo')
  client.send({ type: 'echo', payload: { text: 'hi' } })
  t.same((await client.expect('echoed')).payload, { text: 'hi' })
  await client.close()
})

t.test('dispatches on<PascalTag> methods for camel, kebab, snake and Pascal spellings', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/echo', EchoResource)
  const client = await connect(app, '/echo')
  client.send({ type: 'ping' })
  await client.expect('pong')
  for (const spelling of ['newChatMessage', 'new-chat-message', 'new_chat_message', 'NewChatMessage', 'new-chatMessage']) {
    client.send({ type: spelling })
    t.same((await client.expect('gotChat')).payload, { as: spelling }, spelling)
  }
})

t.test('lets the decorator win over the convention and subclasses override inherited handlers', async (t) => {
  class Base extends WebSocketResource {
    static convention = 'any' as const
    @handlesMessage('greet')
    hello () { this.send({ type: 'from', payload: 'base.hello' }) }

    onGreet () { this.send({ type: 'from', payload: 'base.onGreet' }) }

    onWave () { this.send({ type: 'from', payload: 'base.onWave' }) }
  }
  class Child extends Base {
    override hello () { this.send({ type: 'from', payload: 'child.hello' }) }
    override onWave () { this.send({ type: 'from', payload: 'child.onWave' }) }
    @handlesMessage('bow')
    bow () { this.send({ type: 'from', payload: 'child.bow' }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/base', Base)
  app.addWebSocketRoute('/child', Child)
  const base = await connect(app, '/base')
  const child = await connect(app, '/child')
  base.send({ type: 'greet' })
  t.equal((await base.expect('from')).payload, 'base.hello')
  child.send({ type: 'greet' })
  t.equal((await child.expect('from')).payload, 'child.hello')
  child.send({ type: 'wave' })
  t.equal((await child.expect('from')).payload, 'child.onWave')
  child.send({ type: 'bow' })
  t.equal((await child.expect('from')).payload, 'child.bow')
  base.send({ type: 'bow' })
  t.equal((await base.expect('error')).error.code, 'UNKNOWN_TYPE')
})

t.test('takes handler schemas from a static schema union', async (t) => {
  const Say = message('say', { text: Type.String() })
  const Shout = message('shout', { text: Type.String({ minLength: 1 }) })
  class Room extends WebSocketResource {
    static schema = Type.Union([Say, Shout])
    @handlesMessage('say')
    say (msg: Static<typeof Say>) { this.send({ type: 'said', payload: msg.payload.text }) }

    onShout (msg: Static<typeof Shout>) { this.send({ type: 'shouted', payload: msg.payload.text.toUpperCase() }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/room', Room)
  const client = await connect(app, '/room')
  client.send({ type: 'say', payload: { text: 'hi' } })
  t.equal((await client.expect('said')).payload, 'hi')
  client.send({ type: 'say', payload: { text: 3 } })
  const error = await client.expect('error')
  t.equal(error.error.code, 'VALIDATION')
  t.equal(error.error.tag, 'say')
  t.same(error.error.issues, [{ path: '/payload/text', message: 'must be string' }])
  client.send({ type: 'shout', payload: { text: '' } })
  t.equal((await client.expect('error')).error.code, 'VALIDATION')
  client.send({ type: 'shout', payload: { text: 'go' } })
  t.equal((await client.expect('shouted')).payload, 'GO')
})

t.test('is strict by default and relaxes per handler or per route', async (t) => {
  const Note = message('note', { text: Type.String() })
  class Strict extends WebSocketResource {
    @handlesMessage('note', Note)
    note () { this.send({ type: 'ok' }) }
  }
  class Loose extends WebSocketResource {
    @handlesMessage('note', Note, { strict: false })
    note (msg: Static<typeof Note>) { this.send({ type: 'ok', payload: msg }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/strict', Strict)
  app.addWebSocketRoute('/loose', Loose)
  app.addWebSocketRoute('/route-loose', Strict, { strict: false })
  const strict = await connect(app, '/strict')
  strict.send({ type: 'note', payload: { text: 'a', extra: 1 }, top: true })
  const error = await strict.expect('error')
  t.equal(error.error.code, 'VALIDATION')
  t.same(error.error.issues, [{ path: '/top', message: 'unknown property' }, { path: '/payload/extra', message: 'unknown property' }])
  const loose = await connect(app, '/loose')
  loose.send({ type: 'note', payload: { text: 'a', extra: 1 } })
  t.same((await loose.expect('ok')).payload, { type: 'note', payload: { text: 'a', extra: 1 } })
  const routeLoose = await connect(app, '/route-loose')
  routeLoose.send({ type: 'note', payload: { text: 'a', extra: 1 } })
  await routeLoose.expect('ok')
})

t.test('reads the tag from a configured discriminator', async (t) => {
  class Events extends WebSocketResource {
    static convention = 'any' as const
    onHello () { this.send({ event: 'hi' }) }
  }
  const app = await build(t, { discriminator: 'event' })
  app.addWebSocketRoute('/events', Events)
  app.addWebSocketRoute('/kind', Events, { discriminator: 'kind' })
  const client = await connect(app, '/events', { discriminator: 'event' })
  client.send({ event: 'hello' })
  await client.expect('hi')
  client.send({ type: 'hello' })
  const error = await client.expect('error')
  t.equal(error.error.code, 'BAD_MESSAGE')
  t.match(error.error.message, /"event"/)
  const kind = await connect(app, '/kind', { discriminator: 'kind' })
  kind.send({ kind: 'hello' })
  t.same(await kind.receive(), { event: 'hi' })
  kind.send({ kind: 'nope' })
  const unknown = await kind.expect('error')
  t.equal(unknown.error.code, 'UNKNOWN_TYPE', 'error frames carry the route\'s discriminator')
})

t.test('works end to end with another discriminator: message schemas, validation, error frames and the testing helper', async (t) => {
  const kindMessage = messages({ discriminator: 'kind' })
  const Say = kindMessage('say', { text: Type.String() })
  const Shout = message('shout', { text: Type.String() }, { discriminator: 'kind' })
  class Talk extends WebSocketResource {
    static schema = Type.Union([Say, Shout])
    onSay (msg: Static<typeof Say>) { this.send({ kind: 'said', payload: msg.payload.text }) }
    @handlesMessage('shout')
    loud (msg: Static<typeof Shout>) { this.send({ kind: 'said', payload: msg.payload.text.toUpperCase() }) }
  }
  const app = await build(t, { discriminator: 'kind' })
  app.addWebSocketRoute('/talk', Talk)
  const client = await connect(app, '/talk')
  client.send({ kind: 'say', payload: { text: 'hi' } })
  t.equal((await client.expect('said')).payload, 'hi', 'expect() reads the route\'s discriminator by default')
  client.send({ kind: 'shout', payload: { text: 'hi' } })
  t.equal((await client.expect('said')).payload, 'HI')
  client.send({ kind: 'say', payload: { text: 1 } })
  t.match((await client.expect('error')).error, { code: 'VALIDATION', tag: 'say' })
  t.equal(client.trace.filter((e) => e.direction === 'in').every((e) => 'kind' in (e.data as object)), true, 'error frames carry kind')
  class TypedForType extends WebSocketResource { static schema = message('say') }
  t.throws(() => app.addWebSocketRoute('/typed', TypedForType), { code: 'FST_PACHINKO_SCHEMA_NO_DISCRIMINATOR' }, 'a schema built for `type` does not fit a `kind` route')
})

t.test('never dispatches lifecycle methods, base helpers or Object.prototype members by tag', async (t) => {
  let connects = 0
  class Guarded extends WebSocketResource {
    override onConnect () { connects++ }
    override onDisconnect () {}
  }
  const app = await build(t)
  app.addWebSocketRoute('/guarded', Guarded)
  const client = await connect(app, '/guarded')
  for (const tag of ['connect', 'disconnect', 'Connect', 'unhandled', 'error', 'validationError', 'constructor', '__proto__',
    'toString', 'hasOwnProperty', 'send', 'close', 'join', 'broadcast', 'valueOf', '__defineGetter__']) {
    client.send({ type: tag })
    const reply = await client.expect('error')
    t.equal(reply.error.code, 'UNKNOWN_TYPE', tag)
  }
  t.equal(connects, 1)
})

t.test('handles one connection\'s messages one at a time, in order, without holding up others', async (t) => {
  const order: string[] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  class Slow extends WebSocketResource {
    static convention = 'any' as const
    async onStep (msg: { payload: { n: number, wait?: boolean } }) {
      order.push(`start ${msg.payload.n}`)
      if (msg.payload.wait === true) await gate
      await new Promise((resolve) => setTimeout(resolve, 5 - msg.payload.n))
      order.push(`end ${msg.payload.n}`)
      this.send({ type: 'done', payload: msg.payload.n })
    }
  }
  const app = await build(t)
  app.addWebSocketRoute('/slow', Slow)
  const a = await connect(app, '/slow')
  const b = await connect(app, '/slow')
  a.send({ type: 'step', payload: { n: 1, wait: true } })
  a.send({ type: 'step', payload: { n: 2 } })
  b.send({ type: 'step', payload: { n: 3 } })
  t.equal((await b.expect('done')).payload, 3, 'b is not held up by a')
  release()
  t.equal((await a.expect('done')).payload, 1)
  t.equal((await a.expect('done')).payload, 2)
  t.same(order.filter((s) => !s.endsWith('3')), ['start 1', 'end 1', 'start 2', 'end 2'])
})

t.test('runs up to `static concurrency` messages of a connection at once', async (t) => {
  let running = 0
  let peak = 0
  class Parallel extends WebSocketResource {
    static convention = 'any' as const
    static concurrency = 3
    async onWork () {
      running++
      peak = Math.max(peak, running)
      await new Promise((resolve) => setTimeout(resolve, 10))
      running--
      this.send({ type: 'worked' })
    }
  }
  const app = await build(t)
  app.addWebSocketRoute('/parallel', Parallel)
  const client = await connect(app, '/parallel')
  for (let i = 0; i < 6; i++) client.send({ type: 'work' })
  for (let i = 0; i < 6; i++) await client.expect('worked')
  t.equal(peak, 3)
})

t.test('takes handler options as the second decorator argument', async (t) => {
  class Loose extends WebSocketResource {
    static schema = Type.Union([message('note', { text: Type.String() })])
    @handlesMessage('note', { strict: false })
    note () { this.send({ type: 'ok' }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/l', Loose)
  const client = await connect(app, '/l')
  client.send({ type: 'note', payload: { text: 'a', extra: true } })
  await client.expect('ok')
})

t.test('ignores on* properties that are not methods, and names an anonymous class in errors', async (t) => {
  class WithGetter extends WebSocketResource {
    get onThing () { return 1 }
  }
  const app = await build(t)
  app.addWebSocketRoute('/g', WithGetter)
  const client = await connect(app, '/g')
  client.send({ type: 'thing' })
  t.equal((await client.expect('error')).error.code, 'UNKNOWN_TYPE')
  class Unnamed extends WebSocketResource {
    @handlesMessage('a') one () {}
    @handlesMessage('a') two () {}
  }
  const anonymous = Unnamed
  Object.defineProperty(anonymous, 'name', { value: '' })
  t.throws(() => app.addWebSocketRoute('/anon', anonymous), { message: /anonymous class binds/ })
})

t.test('takes strict from the plugin options', async (t) => {
  const Note = message('note', { text: Type.String() })
  class Notes extends WebSocketResource {
    @handlesMessage('note', Note)
    note () { this.send({ type: 'ok' }) }
  }
  const app = await build(t, { strict: false })
  app.addWebSocketRoute('/n', Notes)
  const client = await connect(app, '/n')
  client.send({ type: 'note', payload: { text: 'a', extra: 1 } })
  await client.expect('ok')
})
