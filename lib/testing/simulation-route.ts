import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { WebSocketLike as WebSocket } from '../connection/websocket-like.js'
import { Connection, type ConnectionSettings } from '../connection/connection.js'
import { createNodeId } from '../connection/ids.js'
import { Session, type ConnectOutcome, type SessionHost } from '../connection/session.js'
import { ERR_ROUTE_NOT_RESOURCE } from '../errors.js'
import { normalizeHooks, type WebSocketHooks } from '../hooks/hook-chain.js'
import { backendContext } from '../manager/backend-context.js'
import { ConnectionManager } from '../manager/connection-manager.js'
import { dispatchFrame } from '../messages/dispatch.js'
import type { Token } from '../resources/container.js'
import { level, type ResourceClass } from '../resources/resource-builder.js'
import { WebSocketResource } from '../resources/resource.js'
import { RouteRuntime } from '../routing/route-runtime.js'
import { kAdd } from '../symbols.js'
import { resolveOptions } from '../options.js'
import { RecordingBackend } from './recording-backend.js'

/*
 * The one module of the simulator that knows the library's insides: it
 * declares a route the way addWebSocketRoute does, runs a connection through
 * the real Session (resources, DI, hooks, onConnect, refusals, onDisconnect)
 * and hands frames to the real dispatchFrame. Nothing here re-implements
 * that logic; it only replaces Fastify, the socket and the fan-out.
 */

/** How the simulated route is declared: what addWebSocketRoute and the plugin options would say. */
export interface RouteSettings {
  readonly args: readonly unknown[]
  readonly discriminator: string
  readonly replyField: string
  readonly strict: boolean
  readonly hooks: WebSocketHooks | undefined
  readonly onProtoPoisoning: 'error' | 'remove' | 'ignore'
  readonly services: Iterable<readonly [Token, unknown]>
  readonly log: FastifyBaseLogger
}

/** One simulated connection's handles, once its resources exist. */
export interface SimulatedConnection {
  readonly connection: Connection
  /** The deepest (here: the only) resource. */
  readonly resource: WebSocketResource | undefined
  /** Resolves when onConnect and the connect hooks have run (and a refusal has been sent); a resource that could not be made is a refusal with its error. */
  readonly opened: Promise<ConnectOutcome>
  /** Runs one frame through the real dispatch path; a promise while something asynchronous is still running. */
  dispatch (data: Buffer, binary: boolean): Promise<unknown> | undefined
}

/** The plugin's default connection settings (1 MiB high-water mark, policy 'close', validateOutgoing by NODE_ENV). */
const DEFAULTS = resolveOptions({})
const SETTINGS: Omit<ConnectionSettings, 'metrics'> = {
  highWaterMark: DEFAULTS.highWaterMark,
  policy: DEFAULTS.policy,
  sendTimeoutMs: DEFAULTS.sendTimeoutMs,
  userWebsocket: false,
  requestTimeoutMs: DEFAULTS.requestTimeoutMs,
  validateOutgoing: DEFAULTS.validateOutgoing
}
/** Tokens every connection provides (as addWebSocketRoute knows them). */
const BUILT_INS = new Set<Token>([Connection])

/** A route for one resource class, declared as addWebSocketRoute would: declaration errors throw here. */
export class SimulationRoute {
  readonly manager: ConnectionManager
  readonly backend = new RecordingBackend()
  private readonly runtime: RouteRuntime

  constructor (resource: ResourceClass, settings: RouteSettings) {
    if (typeof resource !== 'function' || !(resource.prototype instanceof WebSocketResource)) {
      throw new ERR_ROUTE_NOT_RESOURCE('simulate()', typeof resource === 'function' ? `class ${resource.name}` : typeof resource)
    }
    const metrics = { connectionsOpened: 0, connectionsClosed: 0, messagesIn: 0, messagesOut: 0, messagesDropped: 0, slowConsumersClosed: 0, messagesLimited: 0, rateLimitCloses: 0 }
    const settingsOf = { ...SETTINGS, metrics }
    const registry = new Map<string, Connection>()
    this.manager = new ConnectionManager(createNodeId(), this.backend, settingsOf, registry)
    this.manager.container.registerValue(ConnectionManager, this.manager)
    for (const [token, value] of settings.services) this.manager.container.registerValue(token, value)
    const only = level(resource, true, settings.args, '/', undefined)
    if (only.injected.length > 0) this.manager.container.check(resource, settings.args.length, BUILT_INS)
    this.runtime = new RouteRuntime({
      path: '/',
      levels: [only],
      strict: settings.strict,
      frames: { discriminator: settings.discriminator, protoAction: settings.onProtoPoisoning, replyField: settings.replyField },
      hooks: normalizeHooks(settings.hooks, 'hooks'),
      contextHooks: () => [],
      resourceFactory: undefined
    }, this.manager)
    void this.backend.start(backendContext(this.manager, registry, settingsOf, settings.log))
  }

  /** Opens a connection on `socket` for `request` and runs it up to the end of onConnect. */
  open (socket: WebSocket, request: FastifyRequest): SimulatedConnection {
    const runtime = this.runtime
    const context = runtime.contextFor(socket, request)
    const connection = context.connection
    let outcome: ConnectOutcome | Promise<ConnectOutcome> | undefined
    let failure: unknown
    const simulated = {
      connection,
      resource: undefined as WebSocketResource | undefined,
      opened: undefined as unknown as Promise<ConnectOutcome>,
      dispatch: (data: Buffer, binary: boolean) =>
        dispatchFrame(simulated.resource as WebSocketResource, runtime.tableFor(simulated.resource as WebSocketResource), data, binary, runtime.frames, context.hooks)
    }
    // the route's own lifecycle steps, watched on the way through
    const host: SessionHost = {
      frames: runtime.frames,
      metrics: runtime.metrics,
      createResources: (ctx) => {
        const watch = (resources: WebSocketResource[]): WebSocketResource[] => {
          simulated.resource = resources[0]
          return resources
        }
        try {
          const made = runtime.createResources(ctx)
          return made instanceof Promise ? made.then(watch, (err: unknown) => { throw (failure = err) }) : watch(made)
        } catch (err) {
          throw (failure = err)
        }
      },
      tableFor: (resource) => runtime.tableFor(resource),
      connect: (resources, ctx) => (outcome = runtime.connect(resources, ctx)),
      disconnect: (resources, ctx, code, reason) => runtime.disconnect(resources, ctx, code, reason),
      release: (ctx) => runtime.release(ctx),
      log: (ctx) => runtime.log(ctx)
    }
    this.manager[kAdd](connection)
    this.manager.metrics.connectionsOpened++
    simulated.opened = new Session(host, context, socket).open().then(async () => await outcome ?? { accepted: false, error: failure })
    return simulated
  }

  /** Resolves once every connection has been released (rooms left, unregistered). */
  async released (): Promise<void> {
    await this.manager.whenEmpty(5000)
  }
}
