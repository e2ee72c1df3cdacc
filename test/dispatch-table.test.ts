import 'reflect-metadata'
import t from 'tap'
import { Type } from 'typebox'
import { WebSocketResource, handlesMessage, message } from '../lib/index.js'
import { toPascal } from '../lib/messages/dispatch-table.js'
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
  t.throws(() => handlesMessage(''), TypeError)
  t.throws(() => handlesMessage(5 as never), TypeError)
  t.throws(() => message(''), TypeError)
})
