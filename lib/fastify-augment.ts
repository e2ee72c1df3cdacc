import type { ConnectionManager } from './manager.js'
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
  }
}
