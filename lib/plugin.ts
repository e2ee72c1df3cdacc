import websocket, { type WebsocketPluginOptions } from '@fastify/websocket'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { Backend } from './backends/backend.js'
import { MemoryBackend } from './backends/memory.js'
import type { Connection, ConnectionSettings, Metrics } from './connection/connection.js'
import { backendContext } from './manager/backend-context.js'
import { ERR_ALREADY_REGISTERED, ERR_OPTION_INVALID } from './errors.js'
import { createNodeId } from './connection/ids.js'
import { ConnectionManager } from './manager/connection-manager.js'
import { resolveOptions, type PachinkoOptions, type ResolvedOptions } from './options.js'
import { PluginState } from './plugin-state.js'
import { addContextHooks, addWebSocketHook } from './hooks/context-hooks.js'
import { normalizeHooks } from './hooks/hook-chain.js'
import { addWebSocketRoute } from './routing/add-route.js'
import { addWebSocketHub } from './hub/add-hub.js'
import { installWorkers } from './workers/install-workers.js'
import { kState } from './symbols.js'
import { CloseCode } from './connection/close-codes.js'
import { installProtocolChoice } from './protocol/subprotocols.js'
import { serveAsyncApi } from './contract/asyncapi/serve.js'

const WS_DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024

/** The plugin body; `index.ts` exports it wrapped in fastify-plugin. */
export const pachinkoPlugin: FastifyPluginAsync<PachinkoOptions> = async function pachinko (app, opts) {
  if (app.hasDecorator('ws') || app.hasDecorator(kState)) throw new ERR_ALREADY_REGISTERED()
  // every option is checked before the backend starts, so a bad one never opens a connection to Redis
  const options = resolveOptions(opts)
  const backend = resolveBackend(opts.backend)
  if (opts.authorizeJoin !== undefined && typeof opts.authorizeJoin !== 'function') throw new ERR_OPTION_INVALID('authorizeJoin', 'must be a function')
  if (opts.resourceFactory !== undefined && typeof opts.resourceFactory !== 'function') throw new ERR_OPTION_INVALID('resourceFactory', 'must be a function')
  const hooks = normalizeHooks(opts.hooks, 'hooks')
  const log = app.log.child({ plugin: 'fastify-pachinko' })
  const settings: ConnectionSettings = {
    highWaterMark: options.highWaterMark,
    policy: options.policy,
    sendTimeoutMs: options.sendTimeoutMs,
    metrics: newMetrics(),
    userWebsocket: app.hasDecorator('websocketServer'),
    validateOutgoing: options.validateOutgoing,
    requestTimeoutMs: options.requestTimeoutMs
  }
  const registry = new Map<string, Connection>()
  const manager = new ConnectionManager(createNodeId(), backend, settings, registry, opts.authorizeJoin)

  // added before @fastify/websocket's own preClose when we register it, so connections get 1001 and their onDisconnect first
  app.addHook('preClose', async () => await closeConnections(manager, options, log))
  await useWebsocket(app, opts.websocket, options)

  await backend.start(backendContext(manager, registry, settings, log.child({ backend: backend.name })))
  app.addHook('onClose', async () => await backend.close())

  manager.container.registerValue(ConnectionManager, manager)
  app.addHook('onClose', async () => await manager.container.dispose().catch((err: unknown) => log.error({ err }, 'disposing services failed')))

  const state = new PluginState(manager, options, opts.resourceFactory)
  addContextHooks(app, hooks)
  app.addHook('onReady', async () => { state.ready = true })
  app.decorate('ws', manager)
  app.decorate(kState, state)
  app.decorate('addWebSocketRoute', addWebSocketRoute)
  app.decorate('addWebSocketHook', addWebSocketHook)
  app.decorate('addWebSocketHub', addWebSocketHub)
  installWorkers(app, { stopTimeoutMs: options.workerStopTimeoutMs })
  if (opts.asyncapi !== undefined) serveAsyncApi(app, manager, opts.asyncapi)
}

function resolveBackend (backend: PachinkoOptions['backend']): Backend {
  if (backend === undefined || backend === 'memory') return new MemoryBackend()
  if (backend !== null && typeof backend === 'object' && typeof backend.start === 'function' && typeof backend.publish === 'function') return backend
  throw new ERR_OPTION_INVALID('backend', "must be 'memory' or a Backend (for example redisBackend({ url }))")
}

async function useWebsocket (app: FastifyInstance, websocketOptions: WebsocketPluginOptions | undefined, options: ResolvedOptions): Promise<void> {
  if (app.hasDecorator('websocketServer')) {
    // registered by the user: keep their settings, except ws's 100 MiB frame limit, which is a cheap memory attack
    const wssOptions = app.websocketServer.options as { maxPayload?: number, perMessageDeflate?: unknown }
    if (wssOptions.maxPayload === WS_DEFAULT_MAX_PAYLOAD) wssOptions.maxPayload = options.maxPayload
    if (options.compression !== false) wssOptions.perMessageDeflate = options.compression
    installProtocolChoice(app.websocketServer.options)
    return
  }
  await app.register(websocket, {
    ...websocketOptions,
    options: { maxPayload: options.maxPayload, perMessageDeflate: options.compression, ...websocketOptions?.options },
    errorHandler: websocketOptions?.errorHandler ?? onWebsocketError
  })
  installProtocolChoice(app.websocketServer.options)
}

/**
 * @fastify/websocket's errorHandler sees two kinds of error: a socket's
 * 'error' event (the client's doing: a protocol violation, for which ws has
 * already started the close with the right code, or a network failure), and a
 * WebSocket route handler that threw (a server fault, e.g. in a plain route of
 * the user's). The first is logged at debug and left to ws; the second is
 * logged at error and the socket closed with 1011. Its default terminated
 * every socket, which turns a 1009 into a 1006.
 */
function onWebsocketError (error: Error & { code?: unknown, syscall?: unknown }, socket: WebSocket, request: FastifyRequest): void {
  const fromClient = (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) || typeof error.syscall === 'string'
  if (fromClient) {
    request.log.debug({ err: error }, 'WebSocket socket error')
    return
  }
  request.log.error({ err: error }, 'WebSocket handler failed')
  socket.close(CloseCode.INTERNAL_ERROR, 'internal server error')
}

async function closeConnections (manager: ConnectionManager, options: ResolvedOptions, log: FastifyInstance['log']): Promise<void> {
  const open = manager.size
  if (open === 0) return
  log.info({ connections: open }, 'closing WebSocket connections (1001)')
  const connections = [...manager.local()]
  const batch = options.closeBatch ?? { size: connections.length, intervalMs: 0 }
  for (let i = 0; i < connections.length; i += batch.size) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, batch.intervalMs))
    for (const connection of connections.slice(i, i + batch.size)) connection.close(CloseCode.GOING_AWAY, 'server shutting down')
  }
  if (await manager.whenEmpty(options.closeTimeoutMs)) return
  const left = manager.size
  for (const connection of [...manager.local()]) connection.terminate()
  log.warn({ connections: left, closeTimeoutMs: options.closeTimeoutMs }, 'terminated WebSocket connections that did not close in time')
  await manager.whenEmpty(options.closeTimeoutMs)
}

function newMetrics (): Metrics {
  return { connectionsOpened: 0, connectionsClosed: 0, messagesIn: 0, messagesOut: 0, messagesDropped: 0, slowConsumersClosed: 0, messagesLimited: 0, rateLimitCloses: 0 }
}
