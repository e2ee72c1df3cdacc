import type { ConnectionManager } from './manager.js'
import type { FastifyInstance } from 'fastify'
import type { HookEvent, WebSocketHook } from './hooks.js'
import type { AddWebSocketRoute } from './route.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The connection manager: live connections, rooms, users, sends and broadcasts. */
    ws: ConnectionManager
    /**
     * Binds a path (Fastify syntax, params allowed) to a resource class or factory, one instance per connection.
     * @example app.addWebSocketRoute('/ws/chat/:room', ChatRoom, { args: [100], name: 'chat.room' })
     */
    addWebSocketRoute: AddWebSocketRoute
    /**
     * Runs a hook at a WebSocket lifecycle event for every WebSocket route of this encapsulation context.
     * @example app.addWebSocketHook('beforeConnect', (ctx) => { if (!ctx.request.headers.authorization) ctx.refuse(4001, 'login first') })
     */
    addWebSocketHook (event: HookEvent, hook: WebSocketHook): FastifyInstance
  }
}
