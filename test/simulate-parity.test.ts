import 'reflect-metadata'
import t from 'tap'
import { Type, type Static } from 'typebox'
import { ClientError, WebSocketResource, handlesMessage, message, type ResourceClass, type WebSocketHooks } from '../lib/index.js'
import { connect, simulate, type Frame } from '../lib/testing/index.js'
import { build } from './helpers/build.js'

/*
 * One dispatch path: a sample of test/dispatch.test.ts's cases (and a few of
 * hooks and errors) run through a real connection (connect(), over injectWS)
 * and through simulate(); the frames must be the same, in the same order.
 * Each case ends with an unknown tag, whose UNKNOWN_TYPE frame marks the end,
 * so an extra frame on either side shows up.
 */

const Echo = message('echo', { text: Type.String({ maxLength: 10 }) })

class EchoResource extends WebSocketResource {
  static convention = 'any' as const
  @handlesMessage('echo', Echo)
  echo (msg: Static<typeof Echo>) { this.send({ type: 'echoed', payload: msg.payload }) }

  onPing () { this.send({ type: 'pong' }) }
  onNewChatMessage (msg: { type: string }) { this.send({ type: 'gotChat', payload: { as: msg.type } }) }
  onFail () { throw new Error('boom') }
  onForbidden () { throw new ClientError('FORBIDDEN', 'not yours') }
}

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

const Say = message('say', { text: Type.String() })
const Shout = message('shout', { text: Type.String({ minLength: 1 }) })
class Room extends WebSocketResource {
  static schema = Type.Union([Say, Shout])
  @handlesMessage('say')
  say (msg: Static<typeof Say>) { this.send({ type: 'said', payload: msg.payload.text }) }

  onShout (msg: Static<typeof Shout>) { this.send({ type: 'shouted', payload: msg.payload.text.toUpperCase() }) }
}

const Note = message('note', { text: Type.String() })
class Strict extends WebSocketResource {
  @handlesMessage('note', Note)
  note (msg: Static<typeof Note>) { this.send({ type: 'ok', payload: msg }) }
}

class Events extends WebSocketResource {
  static convention = 'any' as const
  onHello () { this.send({ event: 'hi' }) }
}

class Guarded extends WebSocketResource {
  override onConnect () {}
  override onDisconnect () {}
}

const hooks: WebSocketHooks = {
  beforeMessage: (ctx) => {
    const text = (ctx.message?.payload as { text?: string } | undefined)?.text
    if (text === 'drop') ctx.drop()
    if (text === 'swap') ctx.message = { type: 'echo', payload: { text: 'swapped' } }
    if (text === 'badswap') ctx.message = { type: 'echo', payload: { text: 12 } }
    if (text === 'explode') throw new Error('hook failed')
    if (ctx.tag === 'ping') ctx.message = { type: 'nowhere' }
  }
}

interface Case {
  name: string
  resource: ResourceClass
  route?: { strict?: boolean, discriminator?: string, hooks?: WebSocketHooks }
  frames: unknown[]
}

const guardedTags = ['connect', 'disconnect', 'Connect', 'unhandled', 'error', 'validationError', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'send', 'close', 'join', 'broadcast', 'valueOf']

const cases: Case[] = [
  { name: 'a decorated handler with its validated message', resource: EchoResource, frames: [{ type: 'echo', payload: { text: 'hi' } }, { type: 'echo', payload: { text: 'far too long for it' } }] },
  { name: 'on<PascalTag> for every spelling', resource: EchoResource, frames: ['ping', 'newChatMessage', 'new-chat-message', 'new_chat_message', 'NewChatMessage', 'new-chatMessage'].map((type) => ({ type })) },
  { name: 'the decorator over the convention, overrides in subclasses', resource: Child, frames: [{ type: 'greet' }, { type: 'wave' }, { type: 'bow' }] },
  { name: 'the base class does not get the child\'s handlers', resource: Base, frames: [{ type: 'greet' }, { type: 'bow' }] },
  { name: 'schemas from a static schema union, with issues', resource: Room, frames: [{ type: 'say', payload: { text: 'hi' } }, { type: 'say', payload: { text: 3 } }, { type: 'shout', payload: { text: '' } }, { type: 'shout', payload: { text: 'go' } }] },
  { name: 'strict by default', resource: Strict, frames: [{ type: 'note', payload: { text: 'a', extra: 1 }, top: true }, { type: 'note', payload: { text: 'a' } }] },
  { name: 'strict: false on the route', resource: Strict, route: { strict: false }, frames: [{ type: 'note', payload: { text: 'a', extra: 1 } }] },
  { name: 'a configured discriminator', resource: Events, route: { discriminator: 'event' }, frames: [{ event: 'hello' }, { type: 'hello' }, { event: 'nope' }] },
  { name: 'lifecycle methods, helpers and Object.prototype are never reachable', resource: Guarded, frames: guardedTags.map((type) => ({ type })) },
  { name: 'bad JSON, non-objects, missing tags, poisoned keys, binary', resource: EchoResource, frames: ['garbage', '[1,2]', '"text"', 'null', '{"payload":1}', '{"type":7}', '{"type":"echo","payload":{"text":"x","__proto__":{"a":1}}}', '{"constructor":{"prototype":{"a":1}},"type":"ping"}', Buffer.from([1, 2, 3]), '\uFEFF{"type":"ping"}'] },
  { name: 'a handler that throws, and a ClientError', resource: EchoResource, frames: [{ type: 'fail' }, { type: 'forbidden' }, { type: 'ping' }] },
  { name: 'beforeMessage hooks that drop, replace or throw', resource: EchoResource, route: { hooks }, frames: [...['drop', 'swap', 'badswap', 'explode', 'fine'].map((text) => ({ type: 'echo', payload: { text } })), { type: 'ping' }] }
]

const sentinelOf = (discriminator: string) => ({ [discriminator]: 'zz-end-of-case' })
const isEnd = (frame: unknown) => (frame as Frame).error?.tag === 'zz-end-of-case'

for (const c of cases) {
  t.test(`the simulator and a real connection answer alike: ${c.name}`, async (t) => {
    const discriminator = c.route?.discriminator ?? 'type'
    const frames = [...c.frames, sentinelOf(discriminator)]

    const app = await build(t)
    app.addWebSocketRoute('/case', c.resource, c.route)
    const client = await connect(app, '/case', { discriminator })
    for (const frame of frames) {
      if (typeof frame === 'string') client.sendRaw(frame, { binary: false })
      else if (Buffer.isBuffer(frame)) client.sendRaw(frame)
      else client.send(frame)
    }
    const real: unknown[] = []
    while (real.length === 0 || !isEnd(real[real.length - 1])) real.push(await client.receive())

    const sim = simulate(c.resource, c.route)
    await sim.connect()
    const simulated: unknown[] = []
    for (const frame of frames) simulated.push(...await sim.receive(frame))

    t.same(simulated, real, `${real.length} frames, the same`)
    t.same(sim.logs.filter((l) => l.level === 'error').map((l) => l.msg), app.logs.filter((l) => l.level >= 50).map((l) => l.msg), 'the same error-level log lines')
  })
}
