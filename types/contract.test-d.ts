import 'reflect-metadata'
import Fastify from 'fastify'
import { expectError, expectType } from 'tsd'
import { Type, type Static } from 'typebox'
import pachinko, { WebSocketResource, handlesMessage, message } from '../dist/lib/index.js'
import { connectClient, type ClientRequestError, type PachinkoClient } from '../dist/lib/client/index.js'
import { connect, type ErrorFrame, type Frame, type ReplyFrame } from '../dist/lib/testing/index.js'

const SendMessage = message('sendMessage', { text: Type.String() })
const StartTyping = message('startTyping')
const Line = Type.Object({ user: Type.String(), text: Type.String() })
const Emits = Type.Union([message('newMessage', Line), message('userLeft', { user: Type.String() })])

class ChatRoom extends WebSocketResource<{ room: string }, Record<string, unknown>, typeof Emits> {
  static schema = Type.Union([SendMessage, StartTyping])
  static emits = Emits

  // a reply schema types the handler's return
  @handlesMessage('sendMessage', SendMessage, { reply: Line })
  async sendMessage (msg: Static<typeof SendMessage>): Promise<Static<typeof Line>> {
    // send and broadcast are typed against static emits
    this.send({ type: 'newMessage', payload: { user: 'ann', text: msg.payload.text } })
    expectError(this.send({ type: 'newMessage', payload: { user: 'ann', txt: 'x' } }))
    expectError(this.send({ type: 'surprise' }))
    await this.broadcast(this.params.room, { type: 'userLeft', payload: { user: 'ann' } })
    expectError(this.broadcast(this.params.room, { type: 'userLeft', payload: { user: 1 } }))
    return { user: 'ann', text: msg.payload.text }
  }

  onStartTyping (): number { return 1 }
}

void ChatRoom

class WrongReply extends WebSocketResource {
  // @ts-expect-error the handler must resolve to the reply schema's type
  @handlesMessage('sendMessage', SendMessage, { reply: Line })
  send2 (): { user: number } { return { user: 1 } }
}
void WrongReply

// without an Emits type parameter, send takes anything, as before
class Loose extends WebSocketResource {
  onAny (): void { this.send({ whatever: true }) }
}
void Loose

// the client, typed from the class
const chat = connectClient<typeof ChatRoom>('ws://localhost:3000/ws/chat/general?user=ann')
expectType<PachinkoClient<typeof ChatRoom>>(chat)
chat.send('sendMessage', { text: 'hi' })
chat.send('startTyping')
expectError(chat.send('sendMessage', { txt: 'hi' }))
expectError(chat.send('sendMessage'))
expectError(chat.send('dance', {}))
expectType<Promise<{ user: string, text: string }>>(chat.request('sendMessage', { text: 'hi' }, { timeoutMs: 1000 }))
expectType<Promise<number>>(chat.request('startTyping'))
expectError(chat.request('sendMessage', { text: 1 }))
chat.on('newMessage', (payload) => { expectType<{ user: string, text: string }>(payload) })
chat.on('error', (body) => { expectType<string>(body.code) })
expectError(chat.on('sendMessage', () => {}))
chat.onRequest('userLeft', (payload) => payload.user)
chat.onStatus((event) => { expectType<'connecting' | 'open' | 'reconnecting' | 'closed'>(event.status) })
const loose = connectClient('ws://localhost:3000/x')
loose.send('anything', { at: 'all' })
expectType<Promise<unknown>>(loose.request('anything'))
declare const failure: ClientRequestError
expectType<string>(failure.code)

// the testing helper: expect(tag) typed from static emits, connect<Frame> as before
const app = Fastify()
await app.register(pachinko)
const room = await connect<typeof ChatRoom>(app, '/ws/chat/general')
expectType<Promise<{ type: 'newMessage', payload: { user: string, text: string } }>>(room.expect('newMessage'))
expectType<Promise<ErrorFrame>>(room.expect('error'))
expectType<Promise<ReplyFrame>>(room.expect('reply'))
expectError(room.expect('sendMessage'))
const frames = await connect<Frame>(app, '/ws/chat/general')
expectType<Promise<Frame>>(frames.expect('anything'))
