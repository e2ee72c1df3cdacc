import type { Backend, ConnectionFilter, ConnectionRef, DeliveryOptions } from './backends/backend.js'
import { Container } from './resources/container.js'
import { serialize, type Connection, type ConnectionSettings, type Metrics } from './connection/connection.js'
import { ERR_CONNECTION_NOT_FOUND, ERR_JOIN_REFUSED, ERR_OPTION_INVALID } from './errors.js'
import { RouteNames } from './routing/route-names.js'
import { CloseCode } from './messages/wire-errors.js'
import { ContractRegistry } from './contract/registry.js'
import { buildAsyncApi, type AsyncApiDocument, type AsyncApiOptions } from './contract/asyncapi/document.js'

/** Options of the broadcast and send methods of `app.ws`. */
export interface SendOptions {
  /** Connections (ids or handles) that must not receive the message. */
  exclude?: string | Connection | Iterable<string | Connection>
  /**
   * With the `'wait'` backpressure policy: how long one slow recipient may take to drain.
   * @default the plugin's `sendTimeoutMs`
   */
  timeoutMs?: number
}

/** Decides whether a connection may join a room (the `authorizeJoin` plugin option). */
export type JoinAuthorizer = (connection: Connection, room: string) => boolean | Promise<boolean>

/** A point-in-time view of the manager, for an introspection route. */
export interface ManagerSnapshot {
  nodeId: string
  backend: string
  connections: number
  rooms: number
  metrics: Metrics
}

/**
 * `app.ws`: every live connection, rooms, users, targeted sends and
 * broadcasts, over a pluggable backend. Every I/O method is async and rejects
 * on failure; a broadcast still reaches every healthy recipient when some fail.
 */
export class ConnectionManager {
  /** This node's id; every connection id created here starts with it. */
  readonly nodeId: string
  /** The backend rooms and fan-out live in. */
  readonly backend: Backend
  readonly settings: ConnectionSettings
  /** The built-in dependency-injection container. */
  readonly container = new Container()
  /** Every declared route as the contract sees it, and the extension point for other channels (`addChannels`). */
  readonly contract = new ContractRegistry()
  private readonly names = new RouteNames()
  private readonly emptyWaiters = new Set<() => void>()

  constructor (nodeId: string, backend: Backend, settings: ConnectionSettings, private readonly authorizeJoin?: JoinAuthorizer) {
    this.nodeId = nodeId
    this.backend = backend
    this.settings = settings
  }

  /** Counters: connections opened/closed, messages in/out/dropped, slow consumers closed. */
  get metrics (): Metrics {
    return this.settings.metrics
  }

  /** How many connections this node has (see `count()` for the cluster). */
  get size (): number {
    return this.backend.localSize
  }

  /** The handle of a connection on this node. */
  get (id: string): Connection | undefined {
    return this.backend.get(id)
  }

  /** Every connection on this node. */
  local (): IterableIterator<Connection> {
    return this.backend.localConnections()
  }

  /** How many connections the cluster has. */
  async count (): Promise<number> {
    return await this.backend.count()
  }

  /**
   * Every matching connection on every node: local handles' references first, then remote ones.
   * @example for await (const c of app.ws.connections({ room: 'general' })) await c.send({ type: 'ping' })
   */
  connections (filter: ConnectionFilter = {}): AsyncIterable<ConnectionRef> {
    return this.backend.connections(filter)
  }

  /** Every connection in a room, on every node. */
  connectionsInRoom (room: string): AsyncIterable<ConnectionRef> {
    return this.backend.connections({ room: checkName('room', room) })
  }

  /** Joins a room; with the `authorizeJoin` option, a refused join rejects with `FST_PACHINKO_JOIN_REFUSED`. */
  async joinRoom (connection: string | Connection, room: string): Promise<void> {
    const handle = this.localHandle(connection)
    checkName('room', room)
    if (this.authorizeJoin !== undefined && await this.authorizeJoin(handle, room) !== true) throw new ERR_JOIN_REFUSED(room)
    await this.backend.join(handle, room)
  }

  async leaveRoom (connection: string | Connection, room: string): Promise<void> {
    await this.backend.leave(this.localHandle(connection), checkName('room', room))
  }

  async roomsOf (connection: string | Connection): Promise<string[]> {
    return await this.backend.roomsOf(typeof connection === 'string' ? connection : connection.id)
  }

  async roomSize (room: string): Promise<number> {
    return await this.backend.roomSize(checkName('room', room))
  }

  async roomsByPrefix (prefix: string): Promise<string[]> {
    if (typeof prefix !== 'string') throw new ERR_OPTION_INVALID('prefix', 'must be a string')
    return await this.backend.roomsByPrefix(prefix)
  }

  /** Associates a connection with a user id, so `sendToUser` reaches every tab and device of that user. */
  async identify (connection: string | Connection, user: string | undefined): Promise<void> {
    await this.backend.identify(this.localHandle(connection), user === undefined ? undefined : checkName('user', user))
  }

  /** Adds a free-form label, for `connections({ label })`. */
  async label (connection: string | Connection, label: string): Promise<void> {
    await this.backend.label(this.localHandle(connection), checkName('label', label), true)
  }

  async unlabel (connection: string | Connection, label: string): Promise<void> {
    await this.backend.label(this.localHandle(connection), checkName('label', label), false)
  }

  /** Sends a message to one connection on any node. */
  async sendTo (id: string, message: unknown, options: SendOptions = {}): Promise<void> {
    await this.backend.sendTo(id, encode(message), delivery(options))
  }

  /** Sends a message to every connection of a user, on every node. */
  async sendToUser (user: string, message: unknown, options: SendOptions = {}): Promise<void> {
    await this.backend.publish({ kind: 'user', user: checkName('user', user) }, encode(message), delivery(options))
  }

  /** Serialises once and delivers to every member of a room, on every node. */
  async broadcastToRoom (room: string, message: unknown, options: SendOptions = {}): Promise<void> {
    await this.backend.publish({ kind: 'room', room: checkName('room', room) }, encode(message), delivery(options))
  }

  /** Serialises once and delivers to every connection, on every node. */
  async broadcastToAll (message: unknown, options: SendOptions = {}): Promise<void> {
    await this.backend.publish({ kind: 'all' }, encode(message), delivery(options))
  }

  /**
   * Sends `message` to a connection on any node with a fresh ref and resolves
   * with the payload of the client's reply (on this node, wherever the
   * connection lives). Rejects with `FST_PACHINKO_CONNECTION_NOT_FOUND`,
   * `FST_PACHINKO_REQUEST_TIMEOUT`, `FST_PACHINKO_REQUEST_CLOSED` or `FST_PACHINKO_REQUEST_FAILED`.
   * @example const { ok } = await app.ws.request(id, { type: 'confirm', payload: { text: 'Leave?' } }, { timeoutMs: 5000 })
   */
  async request<T = unknown> (id: string, message: object, options: { timeoutMs?: number } = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.settings.requestTimeoutMs
    const local = this.backend.get(id)
    if (local !== undefined) return await local.request<T>(message, { timeoutMs })
    if (this.backend.request === undefined) throw new ERR_CONNECTION_NOT_FOUND(id)
    return await this.backend.request(id, encode(message), timeoutMs) as T
  }

  /**
   * The AsyncAPI 3.0 document of every route declared so far: channels,
   * messages in both directions, request/reply operations.
   * @example app.ws.asyncapi({ info: { title: 'Chat', version: '1.0.0' }, servers: { local: { host: 'localhost:3000', protocol: 'ws' } } })
   */
  asyncapi (options: AsyncApiOptions = {}): AsyncApiDocument {
    return buildAsyncApi(this.contract, options)
  }

  /** Closes one connection on any node. */
  async disconnect (id: string, code: number = CloseCode.NORMAL, reason = ''): Promise<void> {
    await this.backend.disconnect(id, code, reason)
  }

  /** Closes every connection of a user on every node; resolves with how many there were. */
  async disconnectUser (user: string, code: number = CloseCode.NORMAL, reason = ''): Promise<number> {
    return await this.backend.disconnectUser(checkName('user', user), code, reason)
  }

  /**
   * The path of a named route with its parameters filled in (prefix included).
   * @example app.ws.urlFor('chat.room', { room: 'general' }) // '/ws/chat/general'
   */
  urlFor (name: string, params: Record<string, string | number> = {}): string {
    return this.names.urlFor(name, params)
  }

  /** Records a named route for `urlFor`; duplicate names throw. */
  nameRoute (name: string, path: string): void {
    this.names.add(name, path)
  }

  /** Counts and metrics, cheap enough for a health route. */
  snapshot (): ManagerSnapshot {
    let rooms = 0
    const seen = new Set<string>()
    for (const connection of this.backend.localConnections()) {
      for (const room of connection.rooms) if (!seen.has(room)) { seen.add(room); rooms++ }
    }
    return { nodeId: this.nodeId, backend: this.backend.name, connections: this.size, rooms, metrics: { ...this.metrics } }
  }

  /** Resolves true once this node has no connection left, or false after `timeoutMs`. */
  async whenEmpty (timeoutMs: number): Promise<boolean> {
    if (this.size === 0) return true
    return await new Promise((resolve) => {
      const done = (empty: boolean): void => {
        clearTimeout(timer)
        this.emptyWaiters.delete(onEmpty)
        resolve(empty)
      }
      const onEmpty = (): void => done(true)
      const timer = setTimeout(() => done(this.size === 0), timeoutMs)
      this.emptyWaiters.add(onEmpty)
    })
  }

  /** Called by routes after a connection is unregistered. */
  released (): void {
    if (this.size !== 0 || this.emptyWaiters.size === 0) return
    for (const waiter of [...this.emptyWaiters]) waiter()
  }

  private localHandle (connection: string | Connection): Connection {
    if (typeof connection !== 'string') return connection
    const found = this.backend.get(connection)
    if (found === undefined) throw new ERR_CONNECTION_NOT_FOUND(connection)
    return found
  }
}

/** Encodes a message once, for every recipient of a send. */
export function encode (message: unknown): Buffer {
  return Buffer.from(serialize(message))
}

function delivery (options: SendOptions): DeliveryOptions {
  const exclude = options.exclude
  if (exclude === undefined) return { timeoutMs: options.timeoutMs }
  const ids = new Set<string>()
  if (typeof exclude === 'string') ids.add(exclude)
  else if (isConnection(exclude)) ids.add(exclude.id)
  else for (const item of exclude) ids.add(typeof item === 'string' ? item : item.id)
  return { exclude: ids, timeoutMs: options.timeoutMs }
}

function isConnection (value: unknown): value is Connection {
  return typeof (value as Connection).id === 'string' && typeof (value as Connection).send === 'function'
}

function checkName (what: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ERR_OPTION_INVALID(what, `must be a non-empty string, got ${typeof value === 'string' ? '""' : typeof value}`)
  return value
}
