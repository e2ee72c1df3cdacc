import 'reflect-metadata'
import t from 'tap'
import { Type } from 'typebox'
import { WebSocketResource, handlesMessage, message } from '../lib/index.js'
import { toPascal } from '../lib/messages/dispatch-table.js'
import { connect } from '../lib/testing/index.js'
import { build } from './helpers/build.js'

t.test('maps tags to PascalCase method names', async (t) => {
  t.equal(toPascal('sendMessage'), 'SendMessage')
  t.equal(toPascal('new-chat-message'), 'NewChatMessage')
  t.equal(toPascal('user_left'), 'UserLeft')
  t.equal(toPascal('room:join'), 'RoomJoin')
  t.equal(toPascal('a.b c'), 'ABC')
  t.equal(toPascal(''), '')
})

t.test('refuses a duplicate tag in one class at declaration', async (t) => {
  class Twice extends WebSocketResource {
    @handlesMessage('say') one () {}
    @handlesMessage('say') two () {}
  }
  const app = await build(t)
  t.throws(() => app.addWebSocketRoute('/twice', Twice), { code: 'FST_PACHINKO_HANDLER_DUPLICATE_TAG', message: /Twice binds the message tag "say" twice \(methods one and two\)/ })
})

t.test('refuses a schema without the discriminator literal, or with another tag', async (t) => {
  class NoLiteral extends WebSocketResource {
    @handlesMessage('say', Type.Object({ type: Type.String() })) say () {}
  }
  class NotObject extends WebSocketResource {
    @handlesMessage('say', Type.String()) say () {}
  }
  class Mismatch extends WebSocketResource {
    @handlesMessage('say', message('shout')) say () {}
  }
  class StaticWithout extends WebSocketResource {
    static schema = Type.Union([message('a'), Type.Object({ payload: Type.String() })])
  }
  class StaticTwice extends WebSocketResource {
    static schema = Type.Union([message('a'), message('a', { x: Type.Number() })])
  }
  const app = await build(t)
  t.throws(() => app.addWebSocketRoute('/1', NoLiteral), { code: 'FST_PACHINKO_SCHEMA_NO_DISCRIMINATOR', message: /NoLiteral: the schema for "say"/ })
  t.throws(() => app.addWebSocketRoute('/2', NotObject), { code: 'FST_PACHINKO_SCHEMA_NO_DISCRIMINATOR' })
  t.throws(() => app.addWebSocketRoute('/3', Mismatch), { code: 'FST_PACHINKO_SCHEMA_TAG_MISMATCH', message: /"say".*"shout"/ })
  t.throws(() => app.addWebSocketRoute('/4', StaticWithout), { code: 'FST_PACHINKO_SCHEMA_NO_DISCRIMINATOR', message: /static schema/ })
  t.throws(() => app.addWebSocketRoute('/5', StaticTwice), { code: 'FST_PACHINKO_SCHEMA_DUPLICATE_TAG' })
  t.throws(() => app.addWebSocketRoute('/6', NoLiteral, { discriminator: 'kind' }), { message: /literal "kind" property/ })
})

t.test('refuses @handlesMessage on something that is not a method', async (t) => {
  class Getter extends WebSocketResource {
    @handlesMessage('value')
    get value () { return 1 }
  }
  const app = await build(t)
  t.throws(() => app.addWebSocketRoute('/g', Getter), { code: 'FST_PACHINKO_HANDLER_NOT_METHOD', message: /Getter\.value/ })
})

t.test('refuses a bad static concurrency', async (t) => {
  for (const concurrency of [0, 1.5, -1, '2', NaN]) {
    class Bad extends WebSocketResource { static concurrency = concurrency as number }
    const app = await build(t)
    t.throws(() => app.addWebSocketRoute('/b', Bad), { code: 'FST_PACHINKO_OPTION_INVALID', message: /Bad\.concurrency/ }, String(concurrency))
  }
})

t.test('refuses bad decorator and message() arguments immediately', async (t) => {
  const invalidTag = { code: 'FST_PACHINKO_MESSAGE_INVALID_TAG' }
  t.throws(() => handlesMessage(''), invalidTag)
  t.throws(() => handlesMessage(5 as never), invalidTag)
  t.throws(() => message(''), invalidTag)
  t.throws(() => message(null as never), invalidTag)
  t.throws(() => message('a', 5 as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
})

t.test('binds on<Tag> methods only for tags the static schema declares: helpers are not reachable', async (t) => {
  class Base extends WebSocketResource {
    onAdminReset () { this.send({ type: 'reset!' }) }
  }
  class WithSchema extends Base {
    static schema = Type.Union([message('say', Type.String())])
    onSay () { this.send({ type: 'said' }) }
    onTimerTick () { this.send({ type: 'tick!' }) }
  }
  class WithoutSchema extends Base {
    onTimerTick () { this.send({ type: 'tick!' }) }
    @handlesMessage('hello') greet () { this.send({ type: 'hi' }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/with', WithSchema)
  app.addWebSocketRoute('/without', WithoutSchema)
  for (const path of ['/with', '/without']) {
    const client = await connect(app, path)
    for (const tag of ['adminReset', 'admin-reset', 'AdminReset', 'timerTick', 'timer_tick']) {
      client.send({ type: tag })
      t.match((await client.expect('error')).error, { code: 'UNKNOWN_TYPE', tag }, `${path}: ${tag}`)
    }
  }
  const withSchema = await connect(app, '/with')
  withSchema.send({ type: 'say', payload: 'x' })
  await withSchema.expect('said')
  withSchema.send({ type: 'Say', payload: 'x' })
  t.match((await withSchema.expect('error')).error, { code: 'UNKNOWN_TYPE' }, 'a schema pins the one spelling')
  const without = await connect(app, '/without')
  without.send({ type: 'hello' })
  await without.expect('hi')
  await app.ready()
  const declared = app.logs.filter((l) => l.msg === 'WebSocket route declared').map((l) => [l.route, l.tags])
  t.same(declared, [['/with', ['say']], ['/without', ['hello']]], 'each route logs the tags it accepts, at debug')
})

t.test('static convention = \'any\' binds every on[A-Z] method, as before', async (t) => {
  class Loose extends WebSocketResource {
    static convention = 'any' as const
    onTimerTick () { this.send({ type: 'tick!' }) }
  }
  class Wrong extends WebSocketResource {
    static convention = 'all'
  }
  const app = await build(t)
  app.addWebSocketRoute('/loose', Loose)
  t.throws(() => app.addWebSocketRoute('/wrong', Wrong), { code: 'FST_PACHINKO_OPTION_INVALID', message: /Wrong\.convention.*'schema' or 'any', got all/ })
  const client = await connect(app, '/loose')
  for (const tag of ['timerTick', 'timer-tick', 'timer_tick', 'TimerTick']) {
    client.send({ type: tag })
    await client.expect('tick!')
  }
})
