import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { WebSocketLike as WebSocket } from '../connection/websocket-like.js'
import { Connection, type Metrics } from '../connection/connection.js'
import type { FrameConfig } from '../messages/dispatch.js'
import { EventContext, HookChain, normalizeHooks, type HookEvent, type WebSocketHook } from '../hooks/hook-chain.js'
import { createConnectionId } from '../connection/ids.js'
import type { ConnectionManager } from '../manager/connection-manager.js'
import { dispatchTableOf, type DispatchTable } from '../messages/dispatch-table.js'
import { buildChain, buildPlain, type Level, type ResourceClass, type ResourceFactoryOption } from '../resources/resource-builder.js'
import { connectionLog, WebSocketResource } from '../resources/resource.js'
import { kAdd, kRemove, kSettings, kUpgradeProbe, kWire } from '../symbols.js'
import type { RateLimit } from '../rate-limit/token-bucket.js'
import { Session, type ConnectOutcome, type SessionContext, type SessionHost } from '../connection/session.js'

/** Hooks by event, as lists. */
export type HookTier = Partial<Record<HookEvent, WebSocketHook[]>>

/** Everything a route's connections share, fixed at declaration. */
export interface RouteSpec {
  /** The full path, prefix included. */
  readonly path: string
  /** The resources of a connection, outermost first (one unless nested). */
  readonly levels: readonly Level[]
  readonly frames: FrameConfig
  readonly strict: boolean
  readonly hooks: HookTier
  /** The hooks of the plugin and the encapsulation context the route was declared in, read at first use. */
  readonly contextHooks: () => HookTier[]
  readonly resourceFactory: ResourceFactoryOption | undefined
  /** The message rate limit of each connection, if any. */
  readonly rateLimit?: RateLimit | undefined
}

/** What a route tells a test client that connected through `fastify-pachinko/testing`. */
export interface UpgradeProbe {
  discriminator?: string
}

const classHooks = new WeakMap<object, HookTier>()
const ACCEPTED: ConnectOutcome = Object.freeze({ accepted: true })
const REFUSED: ConnectOutcome = Object.freeze({ accepted: false })

/**
 * A declared route at run time: turns each upgraded socket into a connection,
 * its resources and a session, and runs their lifecycle with the hooks.
 */
export class RouteRuntime implements SessionHost {
  readonly frames: FrameConfig
  readonly metrics: Metrics
  readonly rateLimit: RateLimit | undefined
  private readonly leafTable: DispatchTable | undefined
  /** One class, nothing to inject, no factory: resources are made synchronously. */
  private readonly plain: boolean
  private sharedHooks: HookChain | undefined | null = null

  constructor (readonly spec: RouteSpec, readonly manager: ConnectionManager) {
    this.frames = spec.frames
    this.metrics = manager.metrics
    this.rateLimit = spec.rateLimit
    // reading the classes now is what makes a duplicate tag, a bad schema or bad hooks fail at declaration
    for (const level of spec.levels) if (level.isClass) hooksOf(level.resource)
    const leaf = spec.levels[spec.levels.length - 1]
    this.leafTable = leaf.isClass ? this.tableOf(leaf.resource as ResourceClass) : undefined
    this.plain = spec.levels.length === 1 && leaf.isClass && leaf.injected.length === 0 && spec.resourceFactory === undefined
  }

  /** The Fastify websocket handler. */
  readonly accept = (socket: WebSocket, request: FastifyRequest): void => {
    const manager = this.manager
    const context = this.contextFor(socket, request)
    const connection = context.connection
    const probe = (request.raw as { [kUpgradeProbe]?: UpgradeProbe })[kUpgradeProbe]
    if (probe !== undefined) probe.discriminator = this.frames.discriminator
    manager[kAdd](connection)
    this.metrics.connectionsOpened++
    const session = new Session(this, context, socket)
    if (debugEnabled(request.log)) this.log(context).debug('connection opened')
    void session.open()
  }

  /** A new connection on `socket` and the context its resources share. */
  contextFor (socket: WebSocket, request: FastifyRequest): SessionContext {
    const manager = this.manager
    const connection = new Connection(createConnectionId(manager.nodeId), socket, manager[kSettings])
    connection[kWire] = this.frames
    return {
      connection,
      request,
      manager,
      discriminator: this.frames.discriminator,
      replyField: this.frames.replyField,
      routePath: this.spec.path,
      params: request.params as Record<string, string>,
      box: { state: undefined },
      log: undefined,
      scope: undefined,
      parent: undefined,
      hooks: undefined
    }
  }

  /** The tags a connection of this route can send, when the resource is a class (a factory's class is known only per connection). */
  get tags (): readonly string[] | undefined {
    return this.leafTable?.tags
  }

  tableFor (resource: WebSocketResource): DispatchTable {
    const leaf = this.spec.levels[this.spec.levels.length - 1]
    return resource.constructor === leaf.resource && this.leafTable !== undefined ? this.leafTable : this.tableOf(resource.constructor as ResourceClass)
  }

  log (context: SessionContext): FastifyBaseLogger {
    return connectionLog(context)
  }

  /** Makes the connection's resources and picks the hooks they run with (synchronously when nothing needs awaiting). */
  createResources (context: SessionContext): WebSocketResource[] | Promise<WebSocketResource[]> {
    if (this.plain) {
      const resources = [buildPlain(this.spec.levels[0], context)]
      context.hooks = this.hooksFor(resources)
      return resources
    }
    return buildChain(this.spec.levels, context, this.manager.container, this.spec.resourceFactory).then((resources) => {
      context.hooks = this.hooksFor(resources)
      return resources
    })
  }

  /** onConnect of a lone resource without connect hooks; synchronous when onConnect is. */
  connect (resources: WebSocketResource[], context: SessionContext): ConnectOutcome | Promise<ConnectOutcome> {
    const hooks = context.hooks
    if (resources.length > 1 || hooks?.has('beforeConnect') === true || hooks?.has('afterConnect') === true) return this.connectAll(resources, context)
    const resource = resources[0]
    if (typeof resource.onConnect !== 'function') return ACCEPTED
    try {
      const result = resource.onConnect()
      if (!(result instanceof Promise)) return result === false ? REFUSED : ACCEPTED
      return result.then((value) => value === false ? REFUSED : ACCEPTED, (err: unknown) => ({ accepted: false, error: err, stage: 'onConnect' }))
    } catch (err) {
      return { accepted: false, error: err, stage: 'onConnect' }
    }
  }

  /** beforeConnect hooks, onConnect outer to inner, afterConnect hooks. */
  private async connectAll (resources: WebSocketResource[], context: SessionContext): Promise<ConnectOutcome> {
    const hooks = context.hooks
    const leaf = resources[resources.length - 1]
    let outcome: ConnectOutcome = { accepted: true }
    let stage: ConnectOutcome['stage'] = 'beforeConnect'
    try {
      if (hooks?.has('beforeConnect') === true) {
        const before = new EventContext('beforeConnect', leaf, this.log(context))
        await hooks.before('beforeConnect', before)
        if (before.refusal !== undefined) outcome = { accepted: false, close: before.refusal }
      }
      stage = 'onConnect'
      for (const resource of resources) {
        if (!outcome.accepted) break
        if (typeof resource.onConnect === 'function' && await resource.onConnect() === false) outcome = { accepted: false }
      }
    } catch (err) {
      outcome = { accepted: false, error: err, stage }
    }
    if (hooks?.has('afterConnect') === true) {
      const after = new EventContext('afterConnect', leaf, this.log(context))
      after.error = outcome.error
      after.refused = !outcome.accepted
      await hooks.after('afterConnect', after)
    }
    return outcome
  }

  /** beforeDisconnect hooks, onDisconnect inner to outer, afterDisconnect hooks, then cleanup; never rejects. */
  async disconnect (resources: WebSocketResource[], context: SessionContext, code: number, reason: string): Promise<void> {
    const log = this.log(context)
    const hooks = context.hooks
    const leaf = resources[resources.length - 1]
    const event = (name: HookEvent): EventContext => Object.assign(new EventContext(name, leaf, log), { code, reason })
    let failure: unknown
    if (hooks?.has('beforeDisconnect') === true) {
      await hooks.before('beforeDisconnect', event('beforeDisconnect')).catch((err: unknown) => {
        failure = err
        log.error({ err }, 'beforeDisconnect hook failed')
      })
    }
    for (let i = resources.length - 1; i >= 0; i--) {
      const resource = resources[i]
      if (typeof resource.onDisconnect !== 'function') continue
      try {
        await resource.onDisconnect(code, reason)
      } catch (err) {
        failure ??= err
        log.error({ err }, 'onDisconnect failed')
      }
    }
    if (hooks?.has('afterDisconnect') === true) await hooks.after('afterDisconnect', Object.assign(event('afterDisconnect'), { error: failure }))
    await context.scope?.dispose().catch((err: unknown) => log.error({ err }, 'disposing connection-scoped services failed'))
    if (debugEnabled(context.request.log)) log.debug({ code, reason }, 'connection closed')
    this.release(context)
  }

  /** Unregisters a connection from the manager and its rooms. */
  release (context: SessionContext): void {
    this.metrics.connectionsClosed++
    this.manager[kRemove](context.connection).catch((err: unknown) => {
      this.log(context).error({ err }, 'backend failed to unregister the connection')
    })
  }

  private hooksFor (resources: WebSocketResource[]): HookChain | undefined {
    const fixed = this.spec.levels.every((level) => level.isClass)
    if (fixed && this.sharedHooks !== null) return this.sharedHooks
    const chain = HookChain.of([...this.spec.contextHooks(), this.spec.hooks, ...resources.map((r) => hooksOf(r.constructor))])
    if (fixed) this.sharedHooks = chain
    return chain
  }

  private tableOf (cls: ResourceClass): DispatchTable {
    return dispatchTableOf(cls, this.frames.discriminator, this.spec.strict, WebSocketResource.prototype, this.frames.replyField)
  }
}

/** A resource class's `static hooks`, checked and cached. */
function hooksOf (cls: unknown): HookTier {
  const key = cls as object
  let tier = classHooks.get(key)
  if (tier === undefined) {
    tier = normalizeHooks((cls as { hooks?: unknown }).hooks, `${(cls as { name: string }).name}.hooks`)
    classHooks.set(key, tier)
  }
  return tier
}

/** Whether debug lines would be written, without making the connection's child logger to find out. */
function debugEnabled (log: FastifyBaseLogger): boolean {
  const check = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled
  return typeof check === 'function' ? check.call(log, 'debug') : true
}
