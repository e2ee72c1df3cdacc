import websocket, { type WebsocketPluginOptions } from '@fastify/websocket'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Backend, BackendContext } from './backends/backend.js'
import { MemoryBackend } from './backends/memory.js'
import type { ConnectionSettings, Metrics } from './connection/connection.js'
import { ERR_ALREADY_REGISTERED, ERR_OPTION_INVALID } from './errors.js'
import { createNodeId } from './connection/ids.js'
import { ConnectionManager } from './manager.js'
import { resolveOptions, type PachinkoOptions, type ResolvedOptions } from './options.js'
import { PluginState } from './plugin-state.js'
import { addContextHooks, addWebSocketHook } from './hooks/context-hooks.js'
import { normalizeHooks } from './hooks/hook-chain.js'
import { addWebSocketRoute } from './routing/add-route.js'
import { installWorkers } from './workers/install-workers.js'
import { kState } from './symbols.js'
import { CloseCode } from './messages/wire-errors.js'
import { installProtocolChoice } from './protocol/subprotocols.js'
import { serveAsyncApi } from './contract/asyncapi/serve.js'

const WS_DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024

/** The plugin body; `index.ts` exports it wrapped in fastify-plugin. */
export const pachinkoPlugin: FastifyPluginAsync<PachinkoOptions> = async function pachinko (app, opts) {
  if (app.hasDecorator('ws') || app.hasDecorator(kState as unknown as string)) throw new ERR_ALREADY_REGISTERED()
  const options = resolveOptions(opts)
  const backend = resolveBackend(opts.backend)
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
  if (opts.authorizeJoin !== undefined && typeof opts.authorizeJoin !== 'function') throw new ERR_OPTION_INVALID('authorizeJoin', 'must be a function')
  const manager = new ConnectionManager(createNodeId(), backend, settings, opts.authorizeJoin)

  // added before @fastify/websocket's own preClose when we register it, so connections get 1001 and their onDisconnect first
  app.addHook('preClose', async () => await closeConnections(manager, options, log))
  await useWebsocket(app, opts.websocket, options)

  const context: BackendContext = {
    nodeId: manager.nodeId,
    settings,
    log: log.child({ backend: backend.name }),
    refFor: (id, nodeId, user, labels) => ({
      id,
      nodeId,
      user,
      labels,
      local: false,
      send: async (message) => await manager.sendTo(id, message),
      close: async (code, reason) => await manager.disconnect(id, code, reason)
    })
  }
  await backend.start(context)
  app.addHook('onClose', async () => await backend.close())

  manager.container.registerValue(ConnectionManager, manager)
  app.addHook('onClose', async () => await manager.container.dispose().catch((err: unknown) => log.error({ err }, 'disposing services failed')))

  if (opts.resourceFactory !== undefined && typeof opts.resourceFactory !== 'function') throw new ERR_OPTION_INVALID('resourceFactory', 'must be a function')
  const state = new PluginState(manager, options, opts.resourceFactory)
  addContextHooks(app, normalizeHooks(opts.hooks, 'hooks'))
  app.addHook('onReady', async () => { state.ready = true })
  app.decorate('ws', manager)
  app.decorate(kState as unknown as string, state)
  app.decorate('addWebSocketRoute', addWebSocketRoute)
  app.decorate('addWebSocketHook', addWebSocketHook)
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
    // sessions log socket errors themselves; ws has already started the close with the right code
    errorHandler: websocketOptions?.errorHandler ?? function onSocketError () {}
  })
  installProtocolChoice(app.websocketServer.options)
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
  return { connectionsOpened: 0, connectionsClosed: 0, messagesIn: 0, messagesOut: 0, messagesDropped: 0, slowConsumersClosed: 0 }
}
