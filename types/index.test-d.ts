import 'reflect-metadata'
import Fastify, { type FastifyInstance } from 'fastify'
import { expectAssignable, expectError, expectType } from 'tsd'
import { Type, type Static } from 'typebox'
import pachinko, {
  ConnectionManager, WebSocketResource, handlesMessage, message, messages,
  type Connection, type ConnectionRef, type PachinkoOptions
} from '../dist/lib/index.js'
import { connect, type ErrorFrame, type Frame, type TestConnection } from '../dist/lib/testing/index.js'

const SendMessage = message('sendMessage', { text: Type.String() })
type SendMessage = Static<typeof SendMessage>

// message() builds the { type, payload } shape
expectType<{ type: 'sendMessage', payload: { text: string } }>({} as SendMessage)
expectType<{ type: 'ping' }>({} as Static<ReturnType<typeof message<'ping'>>>)

// another discriminator types the same way
const Say = message('say', { text: Type.String() }, { discriminator: 'kind' })
expectType<{ kind: 'say', payload: { text: string } }>({} as Static<typeof Say>)
expectType<'say'>(Say.properties.kind.const)
const kindMessage = messages({ discriminator: 'op' })
expectType<{ op: 'ping' }>({} as Static<ReturnType<typeof kindMessage<'ping'>>>)
const AddOp = kindMessage('add', { n: Type.Number() })
expectType<{ op: 'add', payload: { n: number } }>({} as Static<typeof AddOp>)
expectType<'add'>(AddOp.properties.op.const)
expectError(message('say', { text: Type.String() }, { discriminator: 5 }))

// the plugin's decorators exist on FastifyInstance
const app = Fastify()
await app.register(pachinko, { discriminator: 'type', backpressure: { policy: 'drop' } })
expectType<ConnectionManager>(app.ws)
expectType<Promise<void>>(app.ws.broadcastToRoom('general', { type: 'hi' }))
expectType<AsyncIterable<ConnectionRef>>(app.ws.connections({ room: 'general' }))
expectType<string>(app.ws.urlFor('chat.room', { room: 'general' }))
expectError(app.register(pachinko, { backpressure: { policy: 'block' } }))
expectAssignable<PachinkoOptions>({ maxPayload: 1024, strict: false, onProtoPoisoning: 'remove' })

class Chat extends WebSocketResource<{ room: string }, { sent: number }> {
  constructor (readonly history: number) { super() }

  // a handler's message is typed from its schema
  @handlesMessage('sendMessage', SendMessage)
  async send2 (msg: SendMessage): Promise<void> {
    expectType<string>(msg.payload.text)
    expectType<string>(this.params.room)
    expectType<number>(this.state.sent)
    expectType<Connection>(this.connection)
    await this.broadcast(this.params.room, { type: 'newMessage', payload: msg.payload }, { excludeSelf: true })
  }

  // fewer parameters are fine
  @handlesMessage('sendMessage', SendMessage)
  touch (): void {}
}

class WrongField extends WebSocketResource {
  // a method that expects a field the schema does not have is a type error
  // @ts-expect-error the schema's payload has `text`, not `txt`
  @handlesMessage('sendMessage', SendMessage)
  send2 (msg: { payload: { txt: string } }): void { void msg }
}
void WrongField

// `args` is typed from the constructor's leading parameters (the container may provide the rest)
app.addWebSocketRoute('/ws/chat/:room', Chat, { args: [100], name: 'chat.room' })
app.addWebSocketRoute('/ws/chat2/:room', Chat)
expectError(app.addWebSocketRoute('/ws/chat/:room', Chat, { args: ['100'] }))
expectError(app.addWebSocketRoute('/ws/chat/:room', Chat, { args: [1, 2] }))
class NoArgs extends WebSocketResource {}
app.addWebSocketRoute('/plain', NoArgs)
expectType<FastifyInstance>(app.addWebSocketRoute('/factory/:id', (ctx, size: number) => {
  expectType<Record<string, string>>(ctx.params)
  return new Chat(size)
}, { args: [1] }))
expectError(app.addWebSocketRoute('/nope', class NotAResource {}))

// the testing helper is typed
const client = await connect<{ type: string, payload?: unknown }>(app, '/plain', { headers: { authorization: 'x' } })
expectType<TestConnection<{ type: string, payload?: unknown }>>(client)
expectType<Promise<{ type: string, payload?: unknown }>>(client.expect('pong'))
expectType<Promise<{ code: number, reason: string }>>(client.closed)
const loose = await connect(app, '/plain')
expectType<Promise<ErrorFrame>>(loose.expect('error'))
expectType<string>((await loose.expect('error')).error.code)
expectType<unknown>((await loose.expect('pong')).payload)
expectType<Promise<{ payload: number }>>(loose.expect<{ payload: number }>('pong'))
expectType<Promise<Frame>>(loose.receive())

// workers: the decorators exist and the context is typed
import { worker, type WorkerContext } from '../dist/lib/index.js'
expectType<FastifyInstance>(app.addWebSocketWorker(async ({ ws, signal, container }) => {
  expectType<ConnectionManager>(ws)
  expectType<AbortSignal>(signal)
  expectType<string>(await container.resolve<string>('token'))
}, { name: 'announcer', restart: 'on-failure' }))
expectError(app.addWebSocketWorker(async () => {}, { restart: 'always' }))
class Jobs {
  @worker({ name: 'sweeper' })
  async sweep (context: WorkerContext): Promise<void> { void context }
}
expectType<FastifyInstance>(app.addWebSocketWorkers(new Jobs()))

// hooks
expectType<FastifyInstance>(app.addWebSocketHook('beforeMessage', (ctx) => {
  expectType<string | undefined>(ctx.tag)
  ctx.drop()
}))
expectError(app.addWebSocketHook('beforeLunch', () => {}))
