import 'reflect-metadata'
import t, { type Test } from 'tap'
import { Type, type Static } from 'typebox'
import { ClientError, WebSocketResource, handlesMessage, message } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

const Say = message('say', { text: Type.String({ maxLength: 20 }) })

class Chat extends WebSocketResource {
  static convention = 'any' as const
  override async onConnect () {
    await this.join('room')
  }

  @handlesMessage('say', Say)
  async say (msg: Static<typeof Say>) {
    await this.broadcast('room', { type: 'said', payload: msg.payload })
  }

  onBoom () {
    throw new Error('secret internal detail')
  }

  async onReject () {
    throw new Error('rejected internal detail')
  }

  onForbidden () {
    throw new ClientError('FORBIDDEN', 'not allowed here')
  }

  onKick () {
    throw new ClientError('KICKED', 'bye', { close: 4001 })
  }

  onEcho (msg: unknown) {
    this.send({ type: 'echo', payload: msg })
  }
}

async function setup (t: Test) {
  const app = await build(t)
  app.addWebSocketRoute('/chat', Chat)
  const attacker = await connect(app, '/chat')
  const bystander = await connect(app, '/chat')
  /** The bystander still gets room traffic, and the attacker still gets answers. */
  const stillServing = async () => {
    attacker.send({ type: 'say', payload: { text: 'still here' } })
    t.same((await bystander.expect('said')).payload, { text: 'still here' }, 'other connections carry on')
    t.same((await attacker.expect('said')).payload, { text: 'still here' }, 'the sender carries on')
  }
  return { app, attacker, bystander, stillServing }
}

function logged (app: { logs: Array<{ level: number, msg: string }> }, pattern: RegExp, level?: number) {
  return app.logs.some((line) => pattern.test(line.msg) && (level === undefined || line.level === level))
}

const cases: Array<[string, string | Buffer, string, RegExp]> = [
  ['non-JSON text', 'this is not json', 'BAD_JSON', /not valid JSON/],
  ['truncated JSON', '{"type":"say","payload":', 'BAD_JSON', /not valid JSON/],
  ['JSON that is a number', '42', 'BAD_MESSAGE', /must be a JSON object/],
  ['JSON that is a string', '"say"', 'BAD_MESSAGE', /must be a JSON object/],
  ['JSON null', 'null', 'BAD_MESSAGE', /must be a JSON object/],
  ['a JSON array', '[{"type":"say"}]', 'BAD_MESSAGE', /must be a JSON object/],
  ['an object without a tag', '{"payload":{"text":"x"}}', 'BAD_MESSAGE', /string "type" field/],
  ['a numeric tag', '{"type":7}', 'BAD_MESSAGE', /string "type" field/],
  ['an object tag', '{"type":{"toString":"say"}}', 'BAD_MESSAGE', /string "type" field/],
  ['an unknown tag', '{"type":"teleport"}', 'UNKNOWN_TYPE', /no handler for "teleport"/],
  ['an empty tag', '{"type":""}', 'UNKNOWN_TYPE', /no handler/],
  ['a schema violation', '{"type":"say","payload":{"text":5}}', 'VALIDATION', /does not match its schema/],
  ['a missing payload', '{"type":"say"}', 'VALIDATION', /does not match/],
  ['an oversized field', JSON.stringify({ type: 'say', payload: { text: 'x'.repeat(21) } }), 'VALIDATION', /does not match/],
  ['extra fields under strict', '{"type":"say","payload":{"text":"x","admin":true}}', 'VALIDATION', /does not match/],
  ['a binary frame', Buffer.from([1, 2, 3]), 'UNSUPPORTED_DATA', /binary frames/],
  ['a __proto__ key', '{"type":"echo","__proto__":{"polluted":true}}', 'BAD_JSON', /forbidden prototype/],
  ['a nested __proto__ key', '{"type":"echo","payload":{"a":{"__proto__":{"polluted":true}}}}', 'BAD_JSON', /forbidden prototype/],
  ['an escaped __proto__ key', '{"type":"echo","\\u005f_proto__":{"polluted":true}}', 'BAD_JSON', /forbidden prototype/],
  ['a constructor.prototype key', '{"type":"echo","constructor":{"prototype":{"polluted":true}}}', 'BAD_JSON', /forbidden prototype/]
]

for (const [what, frame, code, pattern] of cases) {
  t.test(`answers ${what} with ${code} and keeps the connection`, async (t) => {
    const { app, attacker, stillServing } = await setup(t)
    attacker.sendRaw(frame)
    const reply = await attacker.expect('error')
    t.equal(reply.error.code, code)
    t.match(reply.error.message, pattern)
    t.notOk('stack' in reply.error, 'no stack in the frame')
    await stillServing()
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched')
    await until(() => logged(app, /unhandled frame|failed validation/), 1000, 'a debug log line')
    t.ok(logged(app, /unhandled frame|failed validation/, 20), 'logged at debug')
  })
}

t.test('echoes at most 100 characters of an unknown tag', async (t) => {
  const { attacker } = await setup(t)
  attacker.send({ type: 'x'.repeat(5000) })
  const reply = await attacker.expect('error')
  t.equal(reply.error.tag?.length, 103)
  t.ok(reply.error.message.length < 200)
})

t.test('answers a throwing handler with INTERNAL, no details, an error log, and carries on', async (t) => {
  const { app, attacker, stillServing } = await setup(t)
  for (const type of ['boom', 'reject']) {
    attacker.send({ type })
    const reply = await attacker.expect('error')
    t.same(reply.error, { code: 'INTERNAL', message: 'internal server error', tag: type })
  }
  t.notMatch(JSON.stringify(attacker.trace), /internal detail/, 'the client never sees the message')
  const errors = app.logs.filter((line) => line.level === 50 && line.msg === 'message handler failed')
  t.equal(errors.length, 2)
  t.match(errors[0], { err: { message: 'secret internal detail' }, tag: 'boom' })
  t.match(errors[0].connId, /\./, 'the line names the connection')
  await stillServing()
})

t.test('sends a ClientError as it is, and closes when it asks to', async (t) => {
  const { attacker, bystander, stillServing } = await setup(t)
  attacker.send({ type: 'forbidden' })
  t.same((await attacker.expect('error')).error, { code: 'FORBIDDEN', message: 'not allowed here', tag: 'forbidden' })
  await stillServing()
  bystander.send({ type: 'kick' })
  t.equal((await bystander.expect('error')).error.code, 'KICKED')
  t.same(await bystander.closed, { code: 4001, reason: 'bye' })
})

t.test('keeps every prototype clean under remove and ignore modes too', async (t) => {
  for (const mode of ['remove', 'ignore'] as const) {
    const app = await build(t, { onProtoPoisoning: mode })
    app.addWebSocketRoute('/chat', Chat, { strict: false })
    const client = await connect(app, '/chat')
    client.sendRaw('{"type":"echo","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}')
    const echo = await client.expect('echo')
    t.equal(({} as Record<string, unknown>).polluted, undefined, mode)
    t.equal(Object.prototype.hasOwnProperty.call(echo.payload, '__proto__'), mode === 'ignore', `${mode}: key kept only when ignored`)
  }
})

t.test('closes a frame over maxPayload with 1009 and logs it, others carry on', async (t) => {
  const app = await build(t, { maxPayload: 1024 })
  app.addWebSocketRoute('/chat', Chat)
  const big = await connect(app, '/chat')
  const other = await connect(app, '/chat')
  big.sendRaw(JSON.stringify({ type: 'say', payload: { text: 'x'.repeat(2000) } }))
  t.equal((await big.closed).code, 1009)
  await until(() => logged(app, /protocol error/), 1000, 'log line')
  t.ok(logged(app, /protocol error/, 30), 'logged at info')
  other.send({ type: 'say', payload: { text: 'fine' } })
  await other.expect('said')
})

t.test('defaults maxPayload to 1 MiB', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/chat', Chat, { strict: false })
  const client = await connect(app, '/chat')
  client.sendRaw(JSON.stringify({ type: 'echo', payload: 'x'.repeat(1024 * 1024 - 100) }))
  await client.expect('echo', { timeout: 5000 })
  client.sendRaw(JSON.stringify({ type: 'echo', payload: 'x'.repeat(1024 * 1024) }))
  t.equal((await client.closed).code, 1009)
})

t.test('closes invalid UTF-8 in a text frame with 1007', async (t) => {
  const { app, attacker, bystander } = await setup(t)
  bystander.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
  t.equal((await bystander.closed).code, 1007)
  const newcomer = await connect(app, '/chat')
  attacker.send({ type: 'say', payload: { text: 'after 1007' } })
  t.same((await newcomer.expect('said')).payload, { text: 'after 1007' }, 'other connections carry on')
  t.same((await attacker.expect('said')).payload, { text: 'after 1007' }, 'the sender carries on')
})

t.test('survives deeply nested JSON', async (t) => {
  const { attacker, stillServing } = await setup(t)
  const deep = '{"type":"say","payload":' + '{"a":'.repeat(10000) + '1' + '}'.repeat(10000) + '}'
  attacker.sendRaw(deep)
  t.equal((await attacker.expect('error')).error.code, 'VALIDATION')
  const deepEcho = '{"type":"echo","payload":' + '['.repeat(10000) + ']'.repeat(10000) + '}'
  attacker.sendRaw(deepEcho)
  t.ok(['echo', 'error'].includes((await attacker.receive<{ type: string }>()).type), 'answered either way')
  await stillServing()
})

t.test('lets a client disconnect mid-handler: the handler finishes, onDisconnect follows, nothing throws', async (t) => {
  const events: string[] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  class Slow extends WebSocketResource {
    static convention = 'any' as const
    async onWork () {
      events.push('start')
      await gate
      events.push('sent ' + String(this.send({ type: 'late' })))
    }

    override onDisconnect (code: number) { events.push(`disconnect ${code}`) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/slow', Slow)
  const client = await connect(app, '/slow')
  client.send({ type: 'work' })
  await until(() => events.length === 1)
  await client.close(1000)
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(events, ['start'], 'onDisconnect waits for the running handler')
  release()
  await until(() => events.length === 3)
  t.same(events, ['start', 'sent false', 'disconnect 1000'])
  t.equal(app.ws.size, 0)
})

t.test('dispatches legitimate frames that merely mention constructor or use \\u escapes', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/chat', Chat, { strict: false })
  const client = await connect(app, '/chat')
  client.sendRaw('\uFEFF{"type":"echo","payload":"after a byte-order mark"}')
  t.equal((await client.expect<{ payload: { payload: string } }>('echo')).payload.payload, 'after a byte-order mark')
  client.sendRaw('{"type":"echo","payload":{"word":"constructor","text":"caf\\u00e9 \\u005f_x"}}')
  t.same((await client.expect('echo')).payload, { type: 'echo', payload: { word: 'constructor', text: 'café __x' } })
})
