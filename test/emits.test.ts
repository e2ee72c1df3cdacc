import 'reflect-metadata'
import t from 'tap'
import { Type, type Static } from 'typebox'
import { WebSocketResource, handlesMessage, message, type PachinkoOptions } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

const NewMessage = message('newMessage', { text: Type.String() })
const Joined = message('joined', { user: Type.String() })
const Emits = Type.Union([NewMessage, Joined])
const Ask = message('ask', { n: Type.Number() })

class Room extends WebSocketResource<Record<string, string>, Record<string, unknown>, typeof Emits> {
  static convention = 'any' as const
  static emits = Emits

  override async onConnect () {
    await this.join('r')
  }

  onGood () {
    this.send({ type: 'newMessage', payload: { text: 'hi' } })
  }

  onBadField () {
    this.send({ type: 'newMessage', payload: { text: 42 } } as unknown as Static<typeof Emits>)
  }

  onUndeclared () {
    this.send({ type: 'surprise' } as unknown as Static<typeof Emits>)
  }

  async onShout () {
    await this.broadcast('r', { type: 'joined', payload: { user: 7 } } as unknown as Static<typeof Emits>)
  }

  onErrorFrame () {
    this.sendError({ code: 'MINE', message: 'error frames are the library\'s own' })
  }

  onReplyFrame () {
    this.send({ type: 'reply', ref: 1 } as unknown as Static<typeof Emits>)
  }

  onNotObject () {
    this.send('just text' as unknown as Static<typeof Emits>)
  }

  /* c8 ignore start -- TypeScript's __decorate helper has branches that map onto the decorated method's line */
  @handlesMessage('ask', Ask, { reply: Type.Object({ doubled: Type.Number() }) })
  ask (msg: Static<typeof Ask>) {
    /* c8 ignore stop */
    if (msg.payload.n === 0) return 0 as unknown as { doubled: number }
    return msg.payload.n > 0 ? { doubled: msg.payload.n * 2 } : { doubled: 'negative' } as unknown as { doubled: number }
  }
}

async function app (t: Parameters<typeof build>[0], options: PachinkoOptions) {
  const server = await build(t, options)
  server.addWebSocketRoute('/room', Room)
  return server
}

t.test('warns once per tag when a message does not match static emits, and still sends it', async (t) => {
  const server = await app(t, { validateOutgoing: 'warn' })
  const client = await connect(server, '/room')
  client.send({ type: 'good' })
  t.same((await client.expect('newMessage')).payload, { text: 'hi' })
  client.send({ type: 'badField' })
  t.same((await client.expect('newMessage')).payload, { text: 42 }, 'the mismatched message still goes out')
  client.send({ type: 'badField' })
  await client.expect('newMessage')
  client.send({ type: 'undeclared' })
  await client.expect('surprise')
  client.send({ type: 'shout' })
  await client.expect('joined')
  client.send({ type: 'errorFrame' })
  await client.expect('error')
  client.send({ type: 'replyFrame' })
  await client.expect('reply')
  client.send({ type: 'notObject' })
  t.equal(await client.receive(), 'just text')
  await until(() => server.logs.filter((l) => /static emits/.test(l.msg)).length === 5)
  const lines = server.logs.filter((l) => /static emits/.test(l.msg))
  t.same(lines.map((l) => [l.level, l.tag]), [[40, 'newMessage'], [20, 'newMessage'], [40, 'surprise'], [40, 'joined'], [40, 'undefined']], 'warn the first time per tag, debug after')
  t.match(lines[0], { class: 'Room', detail: '/payload/text: must be string', connId: /\./ })
  t.match(lines[2], { detail: /not declared in static emits \(newMessage, joined\)/ })
  t.notOk(server.logs.some((l) => l.msg.includes('static emits') && l.tag === 'error'), 'error frames are never checked')
})

t.test('throws a coded error under validateOutgoing: "throw", so the client gets INTERNAL and the log an error', async (t) => {
  const server = await app(t, { validateOutgoing: 'throw' })
  const client = await connect(server, '/room')
  client.send({ type: 'badField', ref: 1 })
  t.same(await client.expect('error'), { type: 'error', ref: 1, error: { code: 'INTERNAL', message: 'internal server error', tag: 'badField' } })
  client.send({ type: 'good' })
  await client.expect('newMessage')
  await until(() => server.logs.some((l) => l.msg === 'message handler failed'))
  t.match(server.logs.find((l) => l.msg === 'message handler failed'), {
    level: 50,
    err: { code: 'FST_PACHINKO_OUTGOING_INVALID', message: /Room sent a "newMessage" message that does not match its static emits \(\/payload\/text: must be string\)/ }
  })
})

t.test('checks a reply against the reply schema of its handler', async (t) => {
  const warned = await app(t, { validateOutgoing: true })
  const a = await connect(warned, '/room')
  a.send({ type: 'ask', ref: 1, payload: { n: 2 } })
  t.same((await a.expect('reply')).payload, { doubled: 4 })
  a.send({ type: 'ask', ref: 2, payload: { n: -1 } })
  t.same((await a.expect('reply')).payload, { doubled: 'negative' })
  await until(() => warned.logs.some((l) => l.msg === 'reply does not match its declared schema'))
  t.match(warned.logs.find((l) => l.msg === 'reply does not match its declared schema'), { level: 40, tag: 'ask', issues: [{ path: '/doubled' }] })

  const thrown = await app(t, { validateOutgoing: 'throw' })
  const b = await connect(thrown, '/room')
  b.send({ type: 'ask', ref: 3, payload: { n: -1 } })
  t.match(await b.expect('error'), { ref: 3, error: { code: 'INTERNAL' } })
  await until(() => thrown.logs.some((l) => (l.err as { code?: string } | undefined)?.code === 'FST_PACHINKO_REPLY_INVALID'))
  t.match(thrown.logs.find((l) => (l.err as { code?: string } | undefined)?.code === 'FST_PACHINKO_REPLY_INVALID'), { err: { message: /Room: the reply to "ask" does not match its reply schema \(\/doubled: must be number\)/ } })
  b.send({ type: 'ask', ref: 4, payload: { n: 0 } })
  t.match(await b.expect('error'), { ref: 4 })
  await until(() => thrown.logs.some((l) => /reply schema \(\/: must be object\)/.test((l.err as { message?: string } | undefined)?.message ?? '')), 2000, 'a top-level mismatch, named /')
})

t.test('checks nothing when off, and is off by default only in production', async (t) => {
  const off = await app(t, { validateOutgoing: false })
  const client = await connect(off, '/room')
  client.send({ type: 'badField' })
  await client.expect('newMessage')
  client.send({ type: 'ask', ref: 1, payload: { n: -1 } })
  await client.expect('reply')
  t.notOk(off.logs.some((l) => /static emits|reply does not match/.test(l.msg)))

  const saved = process.env.NODE_ENV
  t.teardown(() => { process.env.NODE_ENV = saved })
  process.env.NODE_ENV = 'production'
  const production = await app(t, {})
  const p = await connect(production, '/room')
  p.send({ type: 'badField' })
  await p.expect('newMessage')
  process.env.NODE_ENV = 'development'
  const development = await app(t, {})
  const d = await connect(development, '/room')
  d.send({ type: 'badField' })
  await d.expect('newMessage')
  await until(() => development.logs.some((l) => /static emits/.test(l.msg)))
  t.notOk(production.logs.some((l) => /static emits/.test(l.msg)))
  await t.rejects(build(t, { validateOutgoing: 'loud' as unknown as 'warn' }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /validateOutgoing/ })
})

t.test('refuses a static emits without the discriminator literal, or with a tag twice, at addWebSocketRoute', async (t) => {
  const server = await build(t)
  class NoTag extends WebSocketResource {
    static emits = Type.Union([Type.Object({ text: Type.String() })])
  }
  class Twice extends WebSocketResource {
    static emits = Type.Union([NewMessage, NewMessage])
  }
  t.throws(() => server.addWebSocketRoute('/a', NoTag), { code: 'FST_PACHINKO_SCHEMA_NO_DISCRIMINATOR', message: /NoTag: the schema for "static emits"/ })
  t.throws(() => server.addWebSocketRoute('/b', Twice), { code: 'FST_PACHINKO_SCHEMA_DUPLICATE_TAG', message: /newMessage/ })
  class Single extends WebSocketResource {
    static convention = 'any' as const
    static emits = NewMessage
    onGo () { this.send({ type: 'newMessage', payload: { text: 'one schema, not a union' } }) }
  }
  server.addWebSocketRoute('/c', Single)
  const client = await connect(server, '/c')
  client.send({ type: 'go' })
  await client.expect('newMessage')
  t.notOk(server.logs.some((l) => /static emits/.test(l.msg)))
})
