import 'reflect-metadata'
import t from 'tap'
import { Type, type Static } from 'typebox'
import { ClientError, WebSocketResource, handlesMessage, message } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'
import { buildChatApp } from '../example/chat/app.js'
import { buildReferenceApp } from '../example/reference/app.js'

const Add = message('add', { a: Type.Number(), b: Type.Number() })
const Sum = Type.Object({ sum: Type.Number() })

class Calculator extends WebSocketResource {
  static schema = Type.Union([Add, message('boom'), message('refuse'), message('later'), message('nothing'), message('bigint'), message('askMe')])

  // TypeScript's __decorate helper has branches that map onto the decorated method's line
  /* c8 ignore start */
  @handlesMessage('add', Add, { reply: Sum })
  add (msg: Static<typeof Add>) {
    /* c8 ignore stop */
    return { sum: msg.payload.a + msg.payload.b }
  }

  async onLater () {
    await new Promise((resolve) => setImmediate(resolve))
    return 'done later'
  }

  onNothing () {}

  onBoom () {
    throw new Error('kaput')
  }

  onRefuse () {
    throw new ClientError('NOPE', 'not today')
  }

  onBigint () {
    return 10n
  }

  // an answer the server asks the client for while this handler runs: the reply must not queue behind it
  async onAskMe () {
    const answer = await this.connection.request({ type: 'question', payload: 'sure?' }, { timeoutMs: 2000 })
    this.send({ type: 'answered', payload: answer })
  }
}

t.test('answers a message that carries a ref with the handler\'s result as a reply frame', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/calc', Calculator)
  const client = await connect(app, '/calc')
  client.send({ type: 'add', ref: 1, payload: { a: 2, b: 3 } })
  t.same(await client.expect('reply'), { type: 'reply', ref: 1, payload: { sum: 5 } }, 'strict validation lets the ref through')
  client.send({ type: 'later', ref: 'abc' })
  t.same(await client.expect('reply'), { type: 'reply', ref: 'abc', payload: 'done later' }, 'an async handler replies once it resolves')
  client.send({ type: 'nothing', ref: 7.5 })
  t.same(await client.expect('reply'), { type: 'reply', ref: 7.5 }, 'a handler that returns nothing acknowledges')
  client.send({ type: 'add', payload: { a: 1, b: 1 } })
  client.send({ type: 'nothing', ref: null })
  client.send({ type: 'later', ref: 2 })
  t.same(await client.expect('reply'), { type: 'reply', ref: 2, payload: 'done later' })
  t.equal(client.trace.filter((e) => e.direction === 'in').length, 4, 'no ref (or a null one): no reply, as before')
})

t.test('puts the ref on every error frame for the message', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/calc', Calculator)
  const client = await connect(app, '/calc')
  client.send({ type: 'add', ref: 'v', payload: { a: 'two', b: 3 } })
  t.match(await client.expect('error'), { ref: 'v', error: { code: 'VALIDATION', tag: 'add', issues: [{ path: '/payload/a' }] } })
  client.send({ type: 'add', ref: 'x', payload: { a: 1, b: 2 }, extra: true })
  t.match(await client.expect('error'), { ref: 'x', error: { code: 'VALIDATION', issues: [{ path: '/extra', message: 'unknown property' }] } }, 'strict still refuses other fields')
  client.send({ type: 'dance', ref: 'u' })
  t.match(await client.expect('error'), { ref: 'u', error: { code: 'UNKNOWN_TYPE', tag: 'dance' } })
  client.send({ type: 'boom', ref: 'i' })
  t.same(await client.expect('error'), { type: 'error', ref: 'i', error: { code: 'INTERNAL', message: 'internal server error', tag: 'boom' } })
  client.send({ type: 'refuse', ref: 'c' })
  t.same(await client.expect('error'), { type: 'error', ref: 'c', error: { code: 'NOPE', message: 'not today', tag: 'refuse' } })
  client.send({ type: 'bigint', ref: 'b' })
  t.match(await client.expect('error'), { ref: 'b', error: { code: 'INTERNAL' } }, 'a result that cannot be serialised is a server fault')
  client.send({ ref: 'm' })
  t.match(await client.expect('error'), { ref: 'm', error: { code: 'BAD_MESSAGE' } })
  await until(() => app.logs.some((l) => l.msg === 'message handler failed' && (l.err as { message: string }).message.includes('BigInt')))
})

t.test('refuses refs that are not short strings or finite numbers, without echoing them or calling the handler', async (t) => {
  const app = await build(t)
  let calls = 0
  class Counter extends WebSocketResource {
    static convention = 'any' as const
    onCount () { return ++calls }
  }
  app.addWebSocketRoute('/count', Counter)
  const client = await connect(app, '/count')
  for (const ref of [{ id: 1 }, [1], true, '', 'x'.repeat(129), { __proto__: { polluted: true } }]) {
    client.send({ type: 'count', ref })
    const error = await client.expect('error')
    t.equal(error.error.code, 'BAD_MESSAGE', JSON.stringify(ref).slice(0, 40))
    t.notOk('ref' in error, 'the bad ref is not echoed')
    t.match(error.error.message, /"ref" must be a string of 1 to 128 characters or a finite number/)
  }
  client.sendRaw('{"type":"count","ref":1,"__proto__":{"polluted":true}}')
  t.equal((await client.expect('error')).error.code, 'BAD_JSON', 'a poisoned frame is refused before its ref is read')
  t.equal(calls, 0)
  client.send({ type: 'count', ref: '__proto__' })
  t.same(await client.expect('reply'), { type: 'reply', ref: '__proto__', payload: 1 }, 'a ref is only a value: "__proto__" is echoed like any string')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  t.notOk(app.logs.some((l) => l.level >= 50), 'nothing a client sent was logged as an error')
})

t.test('keeps a top-level field of the reply field\'s name that a schema declares itself', async (t) => {
  const app = await build(t)
  class Own extends WebSocketResource {
    static schema = Type.Union([Type.Object({ type: Type.Literal('own'), ref: Type.Integer() })])
    onOwn () { return 'mine' }
  }
  app.addWebSocketRoute('/own', Own)
  const client = await connect(app, '/own')
  client.send({ type: 'own', ref: 'text' })
  t.match(await client.expect('error'), { ref: 'text', error: { code: 'VALIDATION', issues: [{ path: '/ref' }] } })
  client.send({ type: 'own', ref: 3 })
  t.same(await client.expect('reply'), { type: 'reply', ref: 3, payload: 'mine' })
})

t.test('takes the reply field from the plugin and the route, and refuses one that is the discriminator', async (t) => {
  const app = await build(t, { replyField: 'id' })
  app.addWebSocketRoute('/calc', Calculator)
  class Later extends WebSocketResource {
    static convention = 'any' as const
    onLater () { return 'done later' }
  }
  app.addWebSocketRoute('/calc2', Later, { replyField: 'cid', discriminator: 'kind' })
  const plugin = await connect(app, '/calc')
  plugin.send({ type: 'later', id: 9 })
  t.same(await plugin.expect('reply'), { type: 'reply', id: 9, payload: 'done later' })
  plugin.send({ type: 'later', ref: 9 })
  t.match(await plugin.expect('error'), { error: { code: 'VALIDATION', issues: [{ path: '/ref' }] } }, 'the default name is then an ordinary, unknown field')
  const route = await connect(app, '/calc2', { discriminator: 'kind' })
  route.send({ kind: 'later', cid: 'q' })
  t.same(await route.expect('reply'), { kind: 'reply', cid: 'q', payload: 'done later' })
  t.throws(() => app.addWebSocketRoute('/bad', Calculator, { replyField: 'type' }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /cannot be the discriminator "type"/ })
  t.throws(() => app.addWebSocketRoute('/bad2', Calculator, { replyField: '' }), { code: 'FST_PACHINKO_OPTION_INVALID' })
  await t.rejects(build(t, { replyField: 42 as unknown as string }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /replyField/ })
})

t.test('replies through the message hooks, after a hook replaced the message too', async (t) => {
  const app = await build(t)
  const seen: string[] = []
  app.addWebSocketHook('beforeMessage', (ctx) => {
    seen.push(ctx.tag as string)
    if (ctx.tag === 'nothing') ctx.message = { type: 'later' }
  })
  app.addWebSocketHook('afterMessage', (ctx) => { seen.push(`after ${String(ctx.error === undefined)}`) })
  app.addWebSocketRoute('/calc', Calculator)
  const client = await connect(app, '/calc')
  client.send({ type: 'add', ref: 1, payload: { a: 1, b: 2 } })
  t.same((await client.expect('reply')).payload, { sum: 3 })
  client.send({ type: 'nothing', ref: 2 })
  t.same(await client.expect('reply'), { type: 'reply', ref: 2, payload: 'done later' })
  client.send({ type: 'boom', ref: 3 })
  t.match(await client.expect('error'), { ref: 3, error: { code: 'INTERNAL' } })
  t.same(seen, ['add', 'after true', 'nothing', 'after true', 'boom', 'after false'])
})

t.test('sends a server request and resolves with the client\'s reply, ahead of the handler that waits for it', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/calc', Calculator)
  const client = await connect(app, '/calc')
  client.send({ type: 'askMe' })
  const question = await client.expect<{ type: string, ref: number, payload: string }>('question')
  t.equal(question.payload, 'sure?')
  t.type(question.ref, 'number')
  client.send({ type: 'reply', ref: question.ref, payload: { yes: true } })
  t.same((await client.expect('answered')).payload, { yes: true })
})

t.test('rejects a server request on timeout, on close, and when the client answers with an error frame', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/calc', Calculator)
  const client = await connect(app, '/calc')
  const [connection] = [...app.ws.local()]
  await t.rejects(connection.request({ type: 'question' }, { timeoutMs: 20 }), { code: 'FST_PACHINKO_REQUEST_TIMEOUT', message: /within 20 ms/ })
  const late = await client.expect<{ ref: number }>('question')
  client.send({ type: 'reply', ref: late.ref, payload: 'too late' })

  const failing = connection.request({ type: 'question' })
  const asked = await client.expect<{ ref: number }>('question')
  client.send({ type: 'error', ref: asked.ref, error: { code: 'DECLINED', message: 'the user said no' } })
  await t.rejects(failing, { code: 'FST_PACHINKO_REQUEST_FAILED', message: /DECLINED: the user said no/, clientError: { code: 'DECLINED', message: 'the user said no' } })

  const odd = connection.request({ type: 'question' })
  client.send({ type: 'error', ref: (await client.expect<{ ref: number }>('question')).ref, error: { code: 42, message: 'x'.repeat(500) } })
  await t.rejects(odd, { code: 'FST_PACHINKO_REQUEST_FAILED', clientError: { code: 'UNKNOWN', message: 'x'.repeat(200) } }, 'a client\'s odd error body is cut down')

  const textual = connection.request({ type: 'question' })
  client.send({ type: 'error', ref: (await client.expect<{ ref: number }>('question')).ref, error: 'nope' })
  await t.rejects(textual, { code: 'FST_PACHINKO_REQUEST_FAILED', clientError: { code: 'UNKNOWN', message: 'no message' } }, 'an error that is not an object')

  const pending = connection.request({ type: 'question' }, { timeoutMs: 5000 })
  await client.expect('question')
  await client.close()
  await t.rejects(pending, { code: 'FST_PACHINKO_REQUEST_CLOSED' })
  await t.rejects(connection.request({ type: 'question' }), { code: 'FST_PACHINKO_REQUEST_CLOSED' }, 'a closed connection refuses at once')
})

t.test('app.ws.request reaches a local connection by id and refuses bad calls with coded errors', async (t) => {
  const app = await build(t, { requestTimeoutMs: 50 })
  app.addWebSocketRoute('/calc', Calculator)
  const client = await connect(app, '/calc')
  const [connection] = [...app.ws.local()]
  const asking = app.ws.request<{ ok: boolean }>(connection.id, { type: 'question', payload: 1 })
  const question = await client.expect<{ ref: number }>('question')
  client.send({ type: 'reply', ref: question.ref, payload: { ok: true } })
  t.same(await asking, { ok: true })
  await t.rejects(app.ws.request(connection.id, { type: 'question' }), { code: 'FST_PACHINKO_REQUEST_TIMEOUT', message: /within 50 ms/ }, 'the plugin\'s requestTimeoutMs applies')
  await t.rejects(app.ws.request('nope.nope', { type: 'question' }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
  await t.rejects(connection.request('hello' as unknown as object), { code: 'FST_PACHINKO_OPTION_INVALID', message: /message/ })
  await t.rejects(connection.request({ type: 'q' }, { timeoutMs: -1 }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /timeoutMs/ })
  await t.rejects(connection.request({ type: 'q', payload: 1n }), { code: 'FST_PACHINKO_MESSAGE_NOT_SERIALIZABLE' })
})

t.test('drops replies to unknown refs and survives a flood of them while a request is pending', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/calc', Calculator)
  const client = await connect(app, '/calc')
  const bystander = await connect(app, '/calc')
  client.send({ type: 'reply', ref: 12345, payload: 'nobody asked' })
  client.send({ type: 'error', ref: 'zzz', error: { code: 'X', message: 'y' } })
  client.send({ type: 'later', ref: 1 })
  t.same((await client.expect('reply')).payload, 'done later', 'unknown answers are dropped without an error frame')
  t.equal(client.trace.filter((e) => e.direction === 'in').length, 1)

  const [connection] = [...app.ws.local()].filter((c) => c.id !== [...app.ws.local()][1].id)
  const asking = connection.request({ type: 'question' }, { timeoutMs: 5000 })
  const question = await client.expect<{ ref: number }>('question')
  for (let i = 0; i < 2000; i++) client.send({ type: 'reply', ref: i === 1000 ? 'x'.repeat(129) : question.ref + 1 + i, payload: i })
  client.sendRaw('not json while a request is out')
  client.sendRaw('null')
  client.sendRaw('{"type":"reply","ref":' + question.ref + ',"payload":{"__proto__":{"polluted":1}}}')
  client.sendRaw('{"type":"reply","ref":' + question.ref + ',"payload":"the real one"}')
  t.equal(await asking, 'the real one')
  t.match(await client.expect('error'), { error: { code: 'BAD_MESSAGE' } }, 'an answer with a bad ref is a bad message')
  t.match(await client.expect('error'), { error: { code: 'BAD_JSON' } }, 'text that is not JSON goes the normal way')
  t.match(await client.expect('error'), { error: { code: 'BAD_MESSAGE' } }, 'so does JSON that is not an object')
  t.match(await client.expect('error'), { error: { code: 'BAD_JSON' } }, 'a poisoned answer goes the normal way and is refused')
  bystander.send({ type: 'add', ref: 'b', payload: { a: 1, b: 1 } })
  t.same((await bystander.expect('reply')).payload, { sum: 2 }, 'other connections are unaffected')
  client.send({ type: 'later', ref: 'still' })
  t.equal((await client.expect('reply')).ref, 'still', 'the flooding connection still works')
  t.notOk(app.logs.some((l) => l.level >= 50))
})

t.test('rejects a server request held back by backpressure with FST_PACHINKO_SEND_DROPPED', async (t) => {
  const app = await build(t, { backpressure: { highWaterMark: 16, policy: 'drop' } })
  app.addWebSocketRoute('/calc', Calculator)
  await connect(app, '/calc')
  const [connection] = [...app.ws.local()]
  // writes of one turn are corked together: the first fills the buffer past 16 bytes, the request is held back
  connection.send({ type: 'filler', payload: 'x'.repeat(64) })
  await t.rejects(connection.request({ type: 'question' }), { code: 'FST_PACHINKO_SEND_DROPPED' })
})

t.test('round-trips requests with refs against the chat and reference examples, errors included', async (t) => {
  const chat = await buildChatApp()
  t.teardown(() => chat.close())
  const ann = await connect(chat, '/ws/chat/general', { query: { user: 'ann' } })
  ann.send({ type: 'sendMessage', ref: 'm1', payload: { text: 'hi' } })
  t.match(await ann.expect('reply'), { type: 'reply', ref: 'm1', payload: { user: 'ann', text: 'hi' } })
  ann.send({ type: 'sendMessage', ref: 'm2', payload: { text: '' } })
  t.match(await ann.expect('error'), { ref: 'm2', error: { code: 'VALIDATION', tag: 'sendMessage' } })

  const reference = await buildReferenceApp({ digestMs: 60_000 })
  t.teardown(() => reference.close())
  const bob = await connect(reference, '/api/v1/projects/p1/tasks', { query: { token: 'token-bob' } })
  await bob.expect('tasks')
  bob.send({ type: 'addTask', ref: 1, payload: { title: 'write the contract' } })
  t.match(await bob.expect('reply'), { ref: 1, payload: { title: 'write the contract', done: false, by: 'bob' } })
  bob.send({ type: 'completeTask', ref: 2, payload: { id: 999 } })
  t.same(await bob.expect('error'), { type: 'error', ref: 2, error: { code: 'NOT_FOUND', message: 'no task 999 in this project', tag: 'completeTask' } })
  bob.send({ type: 'listTasks', ref: 3 })
  t.same(await bob.expect('reply'), { type: 'reply', ref: 3 }, 'a handler that sends and returns nothing acknowledges')
})
