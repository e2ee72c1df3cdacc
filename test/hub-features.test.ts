import 'reflect-metadata'
import t from 'tap'
import { Type } from 'typebox'
import { Channel, ClientError, handlesEvent, inject, injectable, type LeaveReason } from '../lib/index.js'
import { connectHub, HubReplyError } from '../lib/testing/index.js'
import { joinStepsOf } from '../lib/hub/hub-runtime.js'
import { build } from './helpers/build.js'

class Greeter {
  greet (name: string) { return `hello ${name}` }
}

@injectable()
class Room extends Channel<{ id: string }, { count: number }, { user?: string }> {
  constructor (private readonly greeter: Greeter) { super() }

  override onJoin (payload: Record<string, unknown>) {
    if (payload.fail === true) throw new Error('boom')
    this.state.count = 0
    return { hello: this.greeter.greet(this.assigns.user ?? 'nobody') }
  }

  @handlesEvent('count')
  count () { return { count: ++this.state.count } }

  @handlesEvent('say', Type.Object({ text: Type.String() }))
  say (payload: { text: string }) { return { said: payload.text } }

  @handlesEvent('circular')
  circular () {
    const value: Record<string, unknown> = {}
    value.self = value
    return value
  }

  @handlesEvent('bad-push')
  badPush () { this.push('x', 1 as never) }
}

t.test('connectHub drives a hub in-process: join, push, expect, leave, heartbeat, trace', async (t) => {
  const app = await build(t)
  app.ws.container.register(Greeter)
  const hub = app.addWebSocketHub('/socket', { connect: (params) => ({ user: params.user }) })
  hub.channel('room:{id}', Room)
  const s = await connectHub(app, '/socket', { params: { user: 'ada', deep: { a: 1 } }, t })
  const room = await s.join('room:1')
  t.same(room.response, { hello: 'hello ada' })
  t.same(await room.push('count'), { count: 1 })
  t.same(await room.push('count'), { count: 2 }, 'state is per channel')
  await t.rejects(room.push('say', { text: 1 }), HubReplyError)
  t.same(await refusal(s.join('nope')), { reason: 'unmatched topic' })
  const said = room.expect('news')
  await hub.broadcast('room:1', 'news', { n: 1 })
  t.same(await said, { n: 1 })
  await s.heartbeat()
  t.ok(s.trace.length > 0)
  await room.leave()
  await s.close()
})

t.test('an onJoin that throws is an internal error reply and an error log; a reply that cannot be serialised too', async (t) => {
  const app = await build(t)
  app.ws.container.register(Greeter)
  const hub = app.addWebSocketHub('/socket')
  hub.channel('room:{id}', Room)
  const s = await connectHub(app, '/socket', { t })
  t.same(await refusal(s.join('room:1', { fail: true })), { reason: 'internal' })
  t.match(app.logs.find((l) => l.level === 50), { msg: 'join failed', err: { message: 'boom' } })
  const room = await s.join('room:1')
  t.same(await refusal(room.push('circular')), { reason: 'internal' })
  t.match(app.logs.filter((l) => l.level === 50).at(-1), { msg: 'a reply could not be serialised' })
  t.same(await refusal(room.push('bad-push')), { reason: 'internal' })
  t.match(app.logs.filter((l) => l.level === 50).at(-1), { msg: 'event handler failed', err: { code: 'FST_PACHINKO_HUB_NOT_SERIALIZABLE' } })
})

t.test('beforeMessage/afterMessage hooks run around events: plugin, hub and channel tiers; drop and replace', async (t) => {
  const order: string[] = []
  class Hooked extends Channel {
    static hooks = { beforeMessage: () => { order.push('channel') } }
    @handlesEvent('echo')
    echo (payload: Record<string, unknown>) { return payload }

    @handlesEvent('fail')
    fail () { throw new ClientError('NOPE', 'nope') }
  }
  const app = await build(t, { hooks: { beforeMessage: (ctx) => { order.push('plugin:' + String(ctx.tag)) } } })
  app.addWebSocketHook('afterMessage', (ctx) => { order.push('after:' + String(ctx.error instanceof Error ? (ctx.error as Error).message : 'ok')) })
  app.addWebSocketHub('/socket', {
    hooks: {
      beforeMessage: (ctx) => {
        order.push('hub')
        const message = ctx.message as { event: string, payload: Record<string, unknown> }
        if (message.payload.drop === true) ctx.drop()
        if (message.payload.swap === true) ctx.message = { event: 'echo', payload: { swapped: true } }
        if (message.payload.junk === true) ctx.message = 'junk' as never
      }
    }
  }).channel('h:*', Hooked)
  const s = await connectHub(app, '/socket', { t, timeout: 300 })
  const ch = await s.join('h:1')
  t.same(await ch.push('echo', { a: 1 }), { a: 1 })
  t.same(order, ['plugin:echo', 'hub', 'channel', 'after:ok'])
  t.same(await ch.push('echo', { swap: true }), { swapped: true })
  t.same(await ch.push('echo', { junk: true }), { junk: true }, 'a replacement that is not a message leaves the original')
  t.same(await refusal(ch.push('fail')), { reason: 'nope', code: 'NOPE' })
  t.equal(order.at(-1), 'after:nope')
  const dropped = ch.push('echo', { drop: true }).catch((err: Error) => err.message)
  t.same(await ch.push('echo', { after: 1 }), { after: 1 }, 'the next event is answered')
  t.match(await dropped, /no the reply to echo/, 'a dropped event gets no reply')
})

t.test('beforeJoin hooks may refuse a join (credentials re-checked at join)', async (t) => {
  class Open extends Channel {}
  const app = await build(t)
  const seen: unknown[] = []
  app.addWebSocketHub('/socket', {
    connect: () => ({ role: 'guest' }),
    beforeJoin: [(ctx) => { seen.push([ctx.topic, ctx.params, ctx.payload, ctx.assigns, ctx.connection.id.length > 0, ctx.request.url, ctx.channel instanceof Open]) }, (ctx) => {
      if (ctx.topic === 'admin') ctx.refuse('admins only', { code: 'FORBIDDEN' })
    }]
  }).channel('admin', Open).channel('open:{x}', Open)
  const s = await connectHub(app, '/socket', { t })
  t.same(await refusal(s.join('admin', { a: 1 })), { reason: 'admins only', code: 'FORBIDDEN' })
  t.same((await s.join('open:1')).response, {})
  t.same(seen[0], ['admin', {}, { a: 1 }, { role: 'guest' }, true, '/socket/websocket?vsn=2.0.0', true])
})

t.test('join steps run before the ok reply: they may push first and add to the response', async (t) => {
  class Open extends Channel {}
  const app = await build(t)
  joinStepsOf.set(app.ws, [({ channel, response }) => { channel.push('before_reply', { n: 1 }); response.extra = true }])
  app.addWebSocketHub('/socket').channel('open', Open)
  const s = await connectHub(app, '/socket', { t })
  const open = await s.join('open')
  t.same(open.response, { extra: true })
  t.same(await open.expect('before_reply'), { n: 1 })
  const frames = s.trace.filter((e) => e.direction === 'in').map((e) => (e.data as unknown[])[3])
  t.same(frames, ['before_reply', 'phx_reply'])
})

t.test('app.close() ends every channel with onLeave("disconnect"), closes with 1001 and counts in app.ws metrics', async (t) => {
  const reasons: LeaveReason[] = []
  class Tracked extends Channel {
    override onLeave (reason: LeaveReason) { reasons.push(reason) }
  }
  const app = await build(t)
  app.addWebSocketHub('/socket').channel('t:*', Tracked)
  const s = await connectHub(app, '/socket')
  await s.join('t:1')
  await s.join('t:2')
  t.equal(app.ws.metrics.connectionsOpened, 1)
  t.ok(app.ws.metrics.messagesIn >= 2)
  await app.close()
  t.equal((await s.closed).code, 1001)
  t.same(reasons, ['disconnect', 'disconnect'])
  t.equal(app.ws.metrics.connectionsClosed, 1)
})

t.test('a channel constructor can read its topic; injected services come from the container (connection scope too)', async (t) => {
  class Scoped {}
  class Injected extends Channel {
    readonly seen: string
    constructor (readonly scoped: Scoped, @inject('greeting') readonly greeting: string) {
      super()
      this.seen = this.topic
    }

    override onJoin () { return { seen: this.seen, greeting: this.greeting, scoped: this.scoped instanceof Scoped } }
  }
  const app = await build(t)
  app.ws.container.register(Scoped, Scoped, { scope: 'connection' })
  app.ws.container.registerValue('greeting', 'hi')
  app.addWebSocketHub('/socket').channel('i', Injected)
  @injectable()
  class Needy extends Channel { constructor (readonly missing: Date) { super() } }
  t.throws(() => app.addWebSocketHub('/other').channel('x', Needy), { code: 'FST_PACHINKO_DI_MISSING_SERVICE' })
  const s = await connectHub(app, '/socket', { t })
  t.same((await s.join('i')).response, { seen: 'i', greeting: 'hi', scoped: true })
})

/** The response of the error reply `promise` rejects with. */
async function refusal (promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise
  } catch (err) {
    if (err instanceof HubReplyError) return err.response
    throw err
  }
  throw new Error('expected an error reply')
}
