import type { HookEvent, WebSocketHook } from './hooks/hook-chain.js'
import type { ConnectionManager } from './manager/connection-manager.js'
import type { AddWebSocketRoute } from './routing/add-route.js'
import type { AddWebSocketWorker, AddWebSocketWorkers } from './workers/worker.js'
import type { ChangeRouteConfig } from './change-feed/capture.js'
import type { AdmissionRouteOptions } from './admission/admission-options.js'
import type { WebSocketHubOptions } from './hub/add-hub.js'
import type { WebSocketHub } from './hub/hub.js'

/* Every decorator the plugin adds to Fastify's types, in one place, so the emitted declarations carry them. */

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
    /**
     * Runs `fn` from `onReady` until `onClose`, in this encapsulation context.
     * @example app.addWebSocketWorker(async ({ ws, signal }) => { … }, { name: 'announcer', restart: 'on-failure' })
     */
    addWebSocketWorker: AddWebSocketWorker
    /** Adds every `@worker` method of `instance` as a worker bound to it. */
    addWebSocketWorkers: AddWebSocketWorkers
    /**
     * Serves a channels hub (the Phoenix channel protocol) at `path` and `path + '/websocket'`.
     * @example const hub = app.addWebSocketHub('/socket', { connect: (params) => params.token !== 'bad' }); hub.channel('room:{id}', RoomChannel)
     */
    addWebSocketHub (path: string, options?: WebSocketHubOptions): WebSocketHub
  }
  interface FastifyContextConfig {
    /**
     * A WebSocket route's admission (origin check, `identify`) over the plugin's, or `false` to leave it unchecked.
     * @example app.get('/raw', { websocket: true, config: { admission: { origins: ['https://app.example.com'] } } }, handler)
     */
    admission?: AdmissionRouteOptions | false
  }
}

declare module 'fastify' {
  /** A route of a change feed's scope publishes its successful writes when it has `model`; `id` says which record it wrote. */
  interface FastifyContextConfig extends ChangeRouteConfig {}
}
