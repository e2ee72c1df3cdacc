import 'reflect-metadata'
import Fastify from 'fastify'
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import pachinko, {
  WebSocketResource, type Connection, type PachinkoOptions, type RateLimitOptions, type Recovery, type StreamPosition, type WebSocketRouteBaseOptions
} from '../dist/lib/index.js'

// rate limits: plugin and route options
expectAssignable<PachinkoOptions>({ rateLimit: { messages: 100, perMs: 1000, burst: 200 } })
expectAssignable<PachinkoOptions>({ rateLimit: { messages: 100, perMs: 1000, closeAfter: false, joins: { messages: 5, perMs: 1000 } } })
expectNotAssignable<PachinkoOptions>({ rateLimit: { messages: '100', perMs: 1000 } })
expectNotAssignable<RateLimitOptions>({ perMs: 1000 })
expectAssignable<WebSocketRouteBaseOptions>({ rateLimit: false })
expectNotAssignable<WebSocketRouteBaseOptions>({ rateLimit: true })

// history: keepHistory, joins that recover, what they resolve with
const app = Fastify()
await app.register(pachinko)
expectType<void>(app.ws.keepHistory('chat:*', { size: 100, ttlMs: 120_000 }))
expectError(app.ws.keepHistory('chat:*', { size: 100 }))
declare const connection: Connection
declare const since: StreamPosition
expectType<Promise<void>>(app.ws.joinRoom(connection, 'chat:1'))
expectType<Promise<Recovery>>(app.ws.joinRoom(connection, 'chat:1', { since }))
expectType<Promise<Recovery>>(app.ws.joinRoom(connection, 'chat:1', { since: null }))
expectError(app.ws.joinRoom(connection, 'chat:1', { since: 17 }))

class Chat extends WebSocketResource<{ room: string }> {
  override async onConnect () {
    expectType<void>(await this.join('lobby'))
    const recovery = await this.join(`chat:${this.params.room}`, { since })
    expectType<boolean>(recovery.recovered)
    expectType<number>(recovery.position.offset)
    expectType<string>(recovery.position.epoch)
    expectType<number>(recovery.replayed)
    expectError(await this.join('lobby', { since: 'yesterday' }))
  }
}
app.addWebSocketRoute('/chat/:room', Chat, { rateLimit: { messages: 10, perMs: 1000 } })
