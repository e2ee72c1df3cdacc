import type { FastifyBaseLogger } from 'fastify'
import type { Connection, ConnectionSettings } from '../connection/connection.js'

/** Whom a published frame is for. */
export type Target =
  | { readonly kind: 'room', readonly room: string }
  | { readonly kind: 'user', readonly user: string }
  | { readonly kind: 'all' }

/** How a frame is delivered. */
export interface DeliveryOptions {
  /** Connection ids that must not receive the frame. */
  readonly exclude?: ReadonlySet<string>
  /** With the `'wait'` policy: how long one recipient may take to drain. */
  readonly timeoutMs?: number
}

/** A connection as the cluster knows it: local handle or reference to one on another node. */
export interface ConnectionRef {
  readonly id: string
  readonly nodeId: string
  readonly user: string | undefined
  readonly labels: readonly string[]
  /** True when the connection lives on this node (then `app.ws.get(id)` returns its handle). */
  readonly local: boolean
  /** Sends a JSON message to it, wherever it lives. */
  send (message: unknown): Promise<void>
  /** Closes it, wherever it lives. */
  close (code?: number, reason?: string): Promise<void>
}

/** Which connections `app.ws.connections()` yields; every given field must match. */
export interface ConnectionFilter {
  readonly room?: string
  readonly user?: string
  readonly label?: string
}

/** What the plugin hands a backend when it starts it. */
export interface BackendContext {
  /** This node's id: a prefix of every connection id created here. */
  readonly nodeId: string
  readonly settings: ConnectionSettings
  readonly log: FastifyBaseLogger
  /** Builds a remote reference's send/close for ids on other nodes. */
  readonly refFor: (id: string, nodeId: string, user: string | undefined, labels: readonly string[]) => ConnectionRef
}

/**
 * Where connections, rooms and fan-out live. A backend owns this node's
 * registry of connections and delivers to them; a clustered backend also
 * carries frames and membership to and from other nodes.
 *
 * Obligations (every implementation, checked by test/backends/suite.ts):
 * - `start` resolves once the backend can serve every other method, and
 *   rejects (with a coded error that says why) when it cannot; the plugin's
 *   `register` then fails. `close` releases everything `start` acquired and
 *   never rejects.
 * - Local operations (`add`, `get`, `localConnections`, `localSize`) are
 *   synchronous and never touch the network.
 * - `publish` delivers the frame — already serialised, the same Buffer for
 *   every recipient — to every matching connection on every node exactly once,
 *   never to an excluded id; the local recipients are written to before the
 *   returned promise settles. It rejects only for failures it could not
 *   route around; one failed recipient never stops the others.
 * - A connection that `remove` was called for has left every room on every
 *   node, and no longer counts in any query, once the promise resolves.
 * - Queries answer for the whole cluster. A node that dies without `close`
 *   must stop counting within a bounded time.
 * - Nothing a backend does may throw out of an event handler or leave an
 *   unhandled rejection: run-time failures are logged through `context.log`.
 */
export interface Backend {
  /** A short name for logs (`memory`, `redis`). */
  readonly name: string
  start (context: BackendContext): Promise<void>
  close (): Promise<void>

  /** Registers a connection that just opened on this node. */
  add (connection: Connection): void
  /** Unregisters a connection: leaves its rooms and forgets its user and labels, cluster-wide. */
  remove (connection: Connection): Promise<void>
  /** The local handle of a connection on this node. */
  get (id: string): Connection | undefined
  /** Every connection on this node. */
  localConnections (): IterableIterator<Connection>
  /** How many connections this node has. */
  readonly localSize: number

  join (connection: Connection, room: string): Promise<void>
  leave (connection: Connection, room: string): Promise<void>
  /** Associates a connection with a user id (undefined clears it). */
  identify (connection: Connection, user: string | undefined): Promise<void>
  /** Adds (`on`) or removes a free-form label used by `connections({ label })`. */
  label (connection: Connection, label: string, on: boolean): Promise<void>

  /** Delivers one encoded frame to a target on every node. */
  publish (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void>
  /** Delivers one encoded frame to a connection on any node; rejects if it does not exist. */
  sendTo (id: string, frame: Buffer, options: DeliveryOptions): Promise<void>
  /**
   * Sends a request (an encoded message without its ref) to a connection on
   * another node and resolves, here, with the payload of the client's reply.
   * Optional: a backend without it serves requests to this node's connections only.
   * Rejects like `connection.request()`, or with `FST_PACHINKO_CONNECTION_NOT_FOUND`.
   */
  request? (id: string, frame: Buffer, timeoutMs: number): Promise<unknown>
  /** Closes a connection on any node; rejects if it does not exist. */
  disconnect (id: string, code: number, reason: string): Promise<void>
  /** Closes every connection of a user on every node; resolves with how many were closed. */
  disconnectUser (user: string, code: number, reason: string): Promise<number>

  roomSize (room: string): Promise<number>
  roomsOf (id: string): Promise<string[]>
  roomsByPrefix (prefix: string): Promise<string[]>
  /** How many connections the whole cluster has. */
  count (): Promise<number>
  /** Every matching connection on every node. */
  connections (filter: ConnectionFilter): AsyncIterable<ConnectionRef>
}
