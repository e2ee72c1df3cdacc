import type { Backend, ConnectionFilter, ConnectionRef } from '../backends/backend.js'
import { checkCloseCode, closeReason, CloseCode } from '../connection/close-codes.js'
import type { Connection, ConnectionSettings, Metrics } from '../connection/connection.js'
import { ERR_CONNECTION_NOT_FOUND, ERR_JOIN_REFUSED, ERR_OPTION_INVALID } from '../errors.js'
import { buildAsyncApi, type AsyncApiDocument, type AsyncApiOptions } from '../contract/asyncapi/document.js'
import { ContractRegistry } from '../contract/registry.js'
import { Container } from '../resources/container.js'
import { RouteNames } from '../routing/route-names.js'
import { checkName, delivery, encode, type SendOptions } from './send-options.js'
import { kAdd, kBackend, kLabels, kRemove, kRevocations, kRooms, kRouteNames, kSettings, kSubscribe, kUser } from '../symbols.js'
import { ManagerHistory, type HistoryOptions, type JoinOptions, type Recovery } from './history-ops.js'
import { changeEvent, type ChangeInput } from '../change-feed/event.js'
import { publishEvent } from '../change-feed/publish.js'
import { EmptyWaiters } from './empty-waiters.js'
import { snapshotOf, told, type ManagerSnapshot } from './snapshot.js'
import { revocationsOf, type RevocationStore } from '../credentials/revocations.js'
import { checkRevocation, closeIfRevoked, revoke, type RevocationSubject, type RevokeOptions } from '../credentials/revoke.js'

/** Decides whether a connection may join a room (the `authorizeJoin` plugin option). */
export type JoinAuthorizer = (connection: Connection, room: string) => boolean | Promise<boolean>

/**
 * `app.ws`: every live connection, rooms, users, targeted sends and
 * broadcasts, over a pluggable backend. Every I/O method is async and rejects
 * on failure; a broadcast still reaches every healthy recipient when some fail.
 */
export class ConnectionManager {
  /** This node's id; every connection id created here starts with it. */
  readonly nodeId: string
  /** The built-in dependency-injection container. */
  readonly container = new Container()
  /** Every declared route as the contract sees it, and the extension point for other channels (`addChannels`). */
  readonly contract = new ContractRegistry()
  readonly [kBackend]: Backend
  readonly [kSettings]: ConnectionSettings
  readonly [kRouteNames] = new RouteNames()
  private readonly registry: Map<string, Connection>
  private readonly emptyWaiters = new EmptyWaiters()
  private readonly authorizeJoin: JoinAuthorizer | undefined
  private readonly history: ManagerHistory
  readonly [kRevocations]: RevocationStore

  /** @internal the plugin makes the one manager of an app */
  constructor (nodeId: string, backend: Backend, settings: ConnectionSettings, registry: Map<string, Connection>, authorizeJoin?: JoinAuthorizer) {
    this.nodeId = nodeId
    this.registry = registry
    this[kBackend] = backend
    this[kSettings] = settings
    this.authorizeJoin = authorizeJoin
    this.history = new ManagerHistory(backend)
    this[kRevocations] = revocationsOf(backend)
  }

  /** Counters: connections opened/closed, messages in/out/dropped, slow consumers closed. */
  get metrics (): Metrics {
    return this[kSettings].metrics
  }

  /** How many connections this node has (see `count()` for the cluster). */
  get size (): number {
    return this.registry.size
  }

  /** The handle of a connection on this node. */
  get (id: string): Connection | undefined {
    return this.registry.get(id)
  }

  /** Every connection on this node. */
  local (): IterableIterator<Connection> {
    return this.registry.values()
  }

  /** How many connections the cluster has. */
  async count (): Promise<number> {
    return await this[kBackend].count()
  }

  /**
   * Every matching connection on every node: local handles' references first, then remote ones.
   * @example for await (const c of app.ws.connections({ room: 'general' })) await c.send({ type: 'ping' })
   */
  connections (filter: ConnectionFilter = {}): AsyncIterable<ConnectionRef> {
    return this[kBackend].connections(filter)
  }

  /** Every connection in a room, on every node. */
  connectionsInRoom (room: string): AsyncIterable<ConnectionRef> {
    return this[kBackend].connections({ room: checkName('room', room) })
  }

  /** Joins a room (a no-op once closed; `authorizeJoin` may refuse: `FST_PACHINKO_JOIN_REFUSED`); with `{ since }`, also replays what it missed (docs/history.md). */
  joinRoom (connection: string | Connection, room: string): Promise<void>
  joinRoom (connection: string | Connection, room: string, options: JoinOptions): Promise<Recovery>
  async joinRoom (connection: string | Connection, room: string, options?: JoinOptions): Promise<Recovery | void> {
    const handle = this.localHandle(connection)
    checkName('room', room)
    const limits = options === undefined ? undefined : this.history.check(room)
    if (this.authorizeJoin !== undefined && await this.authorizeJoin(handle, room) !== true) throw new ERR_JOIN_REFUSED(room)
    if (limits === undefined) return await this[kSubscribe](handle, room)
    return await this.history.recover(handle, room, limits, options as JoinOptions, async () => await this[kSubscribe](handle, room))
  }

  /** Makes a room (or every room with a prefix: `'chat:*'`) keep its last `size` broadcasts for `ttlMs`, stamped with `offset` and `epoch`; on every node. */
  keepHistory (rooms: string, options: HistoryOptions): void {
    this.history.keep(rooms, options)
  }

  /** Joins a room without `authorizeJoin`: for rooms the plugin manages itself (hub topics, the change feed's), which have their own authorization. */
  async [kSubscribe] (handle: Connection, room: string): Promise<void> {
    if (!this.registry.has(handle.id)) return
    const rooms = handle[kRooms] ??= new Set()
    if (rooms.has(room)) return
    rooms.add(room)
    await told(this[kBackend].join(handle, room), () => rooms.delete(room))
  }

  /** Leaves a room. */
  async leaveRoom (connection: string | Connection, room: string): Promise<void> {
    const handle = this.localHandle(connection)
    checkName('room', room)
    if (handle[kRooms]?.delete(room) !== true) return
    await this[kBackend].leave(handle, room)
  }

  /** The rooms of a connection on any node. */
  async roomsOf (connection: string | Connection): Promise<string[]> {
    return await this[kBackend].roomsOf(typeof connection === 'string' ? connection : connection.id)
  }

  /** How many connections a room has, on every node. */
  async roomSize (room: string): Promise<number> {
    return await this[kBackend].roomSize(checkName('room', room))
  }

  /** The rooms (on every node) whose name starts with `prefix`. */
  async roomsByPrefix (prefix: string): Promise<string[]> {
    if (typeof prefix !== 'string') throw new ERR_OPTION_INVALID('prefix', 'must be a string')
    return await this[kBackend].roomsByPrefix(prefix)
  }

  /** Associates a connection with a user id (for `sendToUser`), and its credential with an expiry; a revoked user's connection is closed with 4403. */
  async identify (connection: string | Connection, user: string | undefined, options: { expiresAt?: Date } = {}): Promise<void> {
    const handle = this.localHandle(connection)
    const next = user === undefined ? undefined : checkName('user', user)
    if ('expiresAt' in options) handle.expiresAt = options.expiresAt
    const previous = handle[kUser]
    if (previous === next || !this.registry.has(handle.id)) return
    handle[kUser] = next
    await told(this[kBackend].identify(handle, next, previous), () => { handle[kUser] = previous })
    if (next !== undefined) await closeIfRevoked(this[kRevocations], this.metrics, handle)
  }

  /** Adds a free-form label, for `connections({ label })`. */
  async label (connection: string | Connection, label: string): Promise<void> {
    const handle = this.localHandle(connection)
    checkName('label', label)
    const labels = handle[kLabels] ??= new Set()
    if (labels.has(label) || !this.registry.has(handle.id)) return
    labels.add(label)
    await told(this[kBackend].label(handle, label, true), () => labels.delete(label))
    await closeIfRevoked(this[kRevocations], this.metrics, handle)
  }

  /** Removes a label. */
  async unlabel (connection: string | Connection, label: string): Promise<void> {
    const handle = this.localHandle(connection)
    checkName('label', label)
    if (handle[kLabels]?.delete(label) !== true) return
    await this[kBackend].label(handle, label, false)
  }

  /** Sends a message to one connection on any node. */
  async sendTo (id: string, message: unknown, options: SendOptions = {}): Promise<void> {
    await this[kBackend].sendTo(checkName('id', id), encode(message), delivery(options))
  }

  /** Sends a message to every connection of a user, on every node. */
  async sendToUser (user: string, message: unknown, options: SendOptions = {}): Promise<void> {
    await this[kBackend].publish({ kind: 'user', user: checkName('user', user) }, encode(message), delivery(options))
  }

  /** Serialises once and delivers to every member of a room, on every node (in a room with history, stamped with its position and kept). */
  async broadcastToRoom (room: string, message: unknown, options: SendOptions = {}): Promise<void> {
    const limits = this.history.limitsOf(checkName('room', room))
    if (limits === undefined) await this[kBackend].publish({ kind: 'room', room }, encode(message), delivery(options))
    else await this.history.publish(room, message, limits, delivery(options))
  }

  /** Serialises once and delivers to every connection, on every node. */
  async broadcastToAll (message: unknown, options: SendOptions = {}): Promise<void> {
    await this[kBackend].publish({ kind: 'all' }, encode(message), delivery(options))
  }

  /**
   * Publishes a change-feed event to the subscribers of `model` and `all`, on every node (what a `config.model` route does); bad input throws `FST_PACHINKO_CHANGE_INVALID`.
   * @example await app.ws.publishChange({ model: 'author', method: 'PATCH', id: 7, payload: { id: 7, name: 'Ada' } })
   */
  publishChange (change: ChangeInput): Promise<void> {
    return publishEvent(this[kBackend], this, changeEvent(change))
  }

  /**
   * Sends `message` to a connection on any node with a fresh ref; resolves with the client's reply payload, on this node.
   * Rejects with `FST_PACHINKO_CONNECTION_NOT_FOUND`, `_REQUEST_TIMEOUT`, `_REQUEST_CLOSED` or `_REQUEST_FAILED`.
   * @example const { ok } = await app.ws.request(id, { type: 'confirm', payload: { text: 'Leave?' } }, { timeoutMs: 5000 })
   */
  async request<T = unknown> (id: string, message: object, options: { timeoutMs?: number } = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this[kSettings].requestTimeoutMs
    const local = this.registry.get(id)
    if (local !== undefined) return await local.request<T>(message, { timeoutMs })
    const backend = this[kBackend]
    if (backend.request === undefined) throw new ERR_CONNECTION_NOT_FOUND(id)
    return await backend.request(id, encode(message), timeoutMs) as T
  }

  /**
   * The AsyncAPI 3.0 document of every route declared so far: channels,
   * messages in both directions, request/reply operations.
   * @example app.ws.asyncapi({ info: { title: 'Chat', version: '1.0.0' }, servers: { local: { host: 'localhost:3000', protocol: 'ws' } } })
   */
  asyncapi (options: AsyncApiOptions = {}): AsyncApiDocument {
    return buildAsyncApi(this.contract, options)
  }

  /** Closes one connection on any node; an invalid close code throws `FST_PACHINKO_CLOSE_CODE_INVALID` at once. */
  disconnect (id: string, code: number = CloseCode.NORMAL, reason = ''): Promise<void> {
    checkCloseCode(code, 'app.ws.disconnect')
    checkName('id', id)
    return this[kBackend].disconnect(id, code, closeReason(reason))
  }

  /**
   * Closes the subject's connections on every node with 4403 and, with `forMs`, refuses the user or label
   * that long (HTTP 403 before the upgrade, or 4403 when identified or labelled later); resolves with how many were closed.
   * @example await app.ws.revoke({ user: 'ann' }, { forMs: 15 * 60_000 })
   */
  revoke (subject: RevocationSubject, options: RevokeOptions = {}): Promise<number> {
    return revoke(this[kBackend], this[kRevocations], this.metrics, checkRevocation(subject, options))
  }

  /** How many connections a user has, on every node. */
  async userSize (user: string): Promise<number> {
    checkName('user', user)
    return await this[kBackend].userSize?.(user) ?? [...this.registry.values()].filter((connection) => connection.user === user).length
  }

  /** Closes every connection of a user on every node; resolves with how many there were. An invalid close code throws at once. */
  disconnectUser (user: string, code: number = CloseCode.NORMAL, reason = ''): Promise<number> {
    checkCloseCode(code, 'app.ws.disconnectUser')
    checkName('user', user)
    return this[kBackend].disconnectUser(user, code, closeReason(reason))
  }

  /**
   * The path of a named route with its parameters filled in (prefix included).
   * @example app.ws.urlFor('chat.room', { room: 'general' }) // '/ws/chat/general'
   */
  urlFor (name: string, params: Record<string, string | number> = {}): string {
    return this[kRouteNames].urlFor(name, params)
  }

  /** Counts and metrics, cheap enough for a health route. */
  snapshot (): ManagerSnapshot {
    return snapshotOf(this.nodeId, this[kBackend].name, this.registry, this.metrics)
  }

  /** Resolves true once this node has no connection left, or false after `timeoutMs`. */
  async whenEmpty (timeoutMs: number): Promise<boolean> {
    return await this.emptyWaiters.wait(() => this.size === 0, timeoutMs)
  }

  /** Registers a connection that just opened on this node. */
  [kAdd] (connection: Connection): void {
    this.registry.set(connection.id, connection)
    this[kBackend].add(connection)
  }

  /** Unregisters a closed connection: gone from this node at once, from every room cluster-wide once the promise settles (it rejects with the backend's failure, after the cleanup). */
  async [kRemove] (connection: Connection): Promise<void> {
    if (!this.registry.delete(connection.id)) return
    this[kSettings].expiry?.cancel(connection)
    try {
      await this[kBackend].remove(connection)
    } finally {
      connection[kRooms] = undefined
      connection[kLabels] = undefined
      connection[kUser] = undefined
      if (this.registry.size === 0) this.emptyWaiters.notify()
    }
  }

  private localHandle (connection: string | Connection): Connection {
    if (typeof connection !== 'string') return connection
    const found = this.registry.get(connection)
    if (found === undefined) throw new ERR_CONNECTION_NOT_FOUND(connection)
    return found
  }
}
