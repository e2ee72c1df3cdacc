import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { Connection, type Metrics } from './connection.js'
import type { FrameConfig, MessageInterceptor } from './dispatch.js'
import { ERR_ROUTE_BAD_FACTORY_RESULT } from './errors.js'
import { createConnectionId } from './ids.js'
import type { ConnectionManager } from './manager.js'
import { dispatchTableOf, type DispatchTable } from './metadata.js'
import { bindResource, connectionLog, WebSocketResource, withConstructionContext, type ConnectionContext } from './resource.js'
import { Session } from './session.js'

/** A resource class as `addWebSocketRoute` takes it. */
export type ResourceClass<A extends unknown[] = any[]> = new (...args: A) => WebSocketResource<any, any>

/** What a resource factory receives first, before the route's `args`. */
export interface FactoryContext {
  readonly request: FastifyRequest
  readonly params: Record<string, string>
  readonly connection: Connection
}

/** A function that makes the resource for a connection (sync or async). */
export type ResourceFactory<A extends unknown[] = any[]> =
  (context: FactoryContext, ...args: A) => WebSocketResource<any, any> | Promise<WebSocketResource<any, any>>

/** Everything a route's connections share, fixed at declaration. */
export interface RouteSpec {
  readonly path: string
  readonly name: string | undefined
  readonly resource: ResourceClass | ResourceFactory
  readonly isClass: boolean
  readonly args: readonly unknown[]
  readonly frames: FrameConfig
  readonly strict: boolean
}

/**
 * A declared route at run time: turns each upgraded socket into a connection,
 * its resources and a session, and runs their lifecycle.
 */
export class RouteRuntime {
  readonly frames: FrameConfig
  readonly metrics: Metrics
  interceptor: MessageInterceptor | undefined = undefined
  private readonly classTable: DispatchTable | undefined

  constructor (readonly spec: RouteSpec, readonly manager: ConnectionManager) {
    this.frames = spec.frames
    this.metrics = manager.metrics
    // reading the class now is what makes a duplicate tag or a bad schema fail at declaration
    this.classTable = spec.isClass ? this.tableOf(spec.resource as ResourceClass) : undefined
  }

  /** The Fastify websocket handler: `this` is the route's encapsulated instance. */
  readonly accept = (socket: WebSocket, request: FastifyRequest): void => {
    const manager = this.manager
    const connection = new Connection(createConnectionId(manager.nodeId), socket, manager.settings)
    const context: ConnectionContext = {
      connection,
      request,
      manager,
      discriminator: this.frames.discriminator,
      routePath: this.spec.path,
      params: (request.params ?? {}) as Record<string, string>,
      state: undefined,
      log: undefined
    }
    manager.backend.add(connection)
    this.metrics.connectionsOpened++
    const session = new Session(this, context, socket)
    if (debugEnabled(request.log)) this.log(context).debug('connection opened')
    void session.open()
  }

  tableFor (resource: WebSocketResource): DispatchTable {
    const cls = resource.constructor as ResourceClass
    return cls === this.spec.resource && this.classTable !== undefined ? this.classTable : this.tableOf(cls)
  }

  concurrencyOf (table: DispatchTable | undefined): number {
    return table === undefined ? 1 : table.concurrency
  }

  log (context: ConnectionContext): FastifyBaseLogger {
    return connectionLog(context)
  }

  async createResources (context: ConnectionContext): Promise<WebSocketResource[]> {
    const { spec } = this
    const made = withConstructionContext(context, () => spec.isClass
      ? new (spec.resource as ResourceClass)(...spec.args)
      : (spec.resource as ResourceFactory)({ request: context.request, params: context.params, connection: context.connection }, ...spec.args))
    const resource = made instanceof Promise ? await made : made
    if (!(resource instanceof WebSocketResource)) throw new ERR_ROUTE_BAD_FACTORY_RESULT(spec.path)
    bindResource(resource, context)
    return [resource]
  }

  /** Runs onConnect outer to inner; false from any refuses the connection. */
  async connect (resources: WebSocketResource[], context: ConnectionContext): Promise<boolean> {
    for (const resource of resources) {
      if (typeof resource.onConnect !== 'function') continue
      if (await resource.onConnect() === false) return false
    }
    return true
  }

  /** Runs onDisconnect inner to outer, then unregisters; never rejects. */
  async disconnect (resources: WebSocketResource[], context: ConnectionContext, code: number, reason: string): Promise<void> {
    const log = this.log(context)
    for (let i = resources.length - 1; i >= 0; i--) {
      const resource = resources[i]
      if (typeof resource.onDisconnect !== 'function') continue
      try {
        await resource.onDisconnect(code, reason)
      } catch (err) {
        log.error({ err }, 'onDisconnect failed')
      }
    }
    if (debugEnabled(context.request.log)) log.debug({ code, reason }, 'connection closed')
    this.release(context)
  }

  /** Unregisters a connection from the manager and its rooms. */
  release (context: ConnectionContext): void {
    this.metrics.connectionsClosed++
    const manager = this.manager
    manager.backend.remove(context.connection).then(() => manager.released(), (err: unknown) => {
      this.log(context).error({ err }, 'backend failed to unregister the connection')
      manager.released()
    })
  }

  private tableOf (cls: ResourceClass): DispatchTable {
    return dispatchTableOf(cls, this.frames.discriminator, this.spec.strict, WebSocketResource.prototype)
  }
}

/** Whether debug lines would be written, without making the connection's child logger to find out. */
function debugEnabled (log: FastifyBaseLogger): boolean {
  const check = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled
  return typeof check === 'function' ? check.call(log, 'debug') : true
}
