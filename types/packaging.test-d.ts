import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { expectAssignable, expectError, expectType } from 'tsd'
import type { WebSocket } from 'ws'
import pachinko, { redisBackend, type Connection, type RedisBackendOptions, type WebSocketLike, type WebsocketOptions } from '../dist/lib/index.js'
import type { TestConnection } from '../dist/lib/testing/index.js'

// the public types name the socket structurally (no @types/ws needed), and ws's socket is one
expectType<WebSocketLike>({} as Connection['socket'])
expectType<WebSocketLike>({} as TestConnection['socket'])
expectAssignable<WebSocketLike>({} as WebSocket)
expectType<number>(({} as Connection).socket.readyState)

// the websocket option takes what @fastify/websocket takes
const app = Fastify()
await app.register(pachinko, { websocket: { options: { maxPayload: 1024, perMessageDeflate: true, clientTracking: false } } })
expectAssignable<WebsocketOptions>({ errorHandler (error: Error, socket: WebSocket) { if (error.message !== '') socket.terminate() } })
expectError(app.register(pachinko, { websocket: { options: { maxPayload: '1k' } } }))

// redisBackend takes an ioredis client or a url, without the types naming ioredis
redisBackend({ client: new Redis({ lazyConnect: true }), heartbeatMs: 1000 })
redisBackend({ url: 'redis://127.0.0.1:6379', prefix: 'app', redisOptions: { password: 'secret', db: 2 } })
expectAssignable<RedisBackendOptions>({ client: new Redis({ lazyConnect: true }) })
expectError(redisBackend({ url: 6379 }))
expectError(redisBackend({ client: {} }))
expectError(redisBackend({ url: 'redis://x', heartbeatMs: '5000' }))
expectError(redisBackend({ url: 'redis://x', redisOptions: 'password' }))
