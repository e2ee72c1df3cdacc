import type { FastifyBaseLogger } from 'fastify'
import type { Connection } from '../connection/connection.js'
import type { BackendHistory } from '../history/room-history.js'
import type { PresenceStore } from './presence-store.js'

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
  /** For a room that keeps history: the frame's offset (set by the backend's history, read by its recoveries). */
  readonly offset?: number
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
  readonly log: FastifyBaseLogger
  /** This node's open connections by id (the manager's registry; read it, never change it). */
  readonly local: ReadonlyMap<string, Connection>
  /**
   * Writes one encoded frame to each recipient not in `options.exclude`, under
   * the plugin's backpressure policy. Returns a promise only when some
   * recipient must be waited for (policy `'wait'`); it rejects with what failed.
   */
  deliver (recipients: Iterable<Connection>, frame: Buffer, options: DeliveryOptions): Promise<void> | undefined
  /** Writes one encoded frame to one connection; rejects when it cannot (closed, dropped, timed out). */
  deliverOne (connection: Connection, frame: Buffer, options: DeliveryOptions): Promise<void>
  /** A reference to a connection of this node, for `connections()`. */
  refOf (connection: Connection): ConnectionRef
  /** A reference to a connection on another node; its send/close go through `sendTo`/`disconnect`. */
  refFor (id: string, nodeId: string, user: string | undefined, labels: readonly string[]): ConnectionRef
}

/**
 * Where rooms and fan-out live: a backend keeps the indexes it needs to
 * deliver (room and user members), and a clustered backend also carries
 * frames and membership to and from other nodes. The manager owns the
 * registry of this node's connections (`context.local`) and records each
 * connection's membership on it (`connection.rooms`, `.user`, `.labels`)
 * **before** telling the backend, so a backend reads membership from there and
 * never writes it. Implement it against the exported types only.
 *
 * Obligations (every implementation, checked by test/backends/suite.ts):
 * - `start` resolves once the backend can serve every other method, and
 *   rejects (with a coded error that says why) when it cannot; the plugin's
 *   `register` then fails. `close` releases everything `start` acquired and
 *   never rejects.
 * - `add` is synchronous and never touches the network.
 * - `join`/`leave`/`identify`/`label` are called once per change, after the
 *   manager recorded it on the connection; a rejection makes the manager undo
 *   its record and reject the caller.
 * - `publish` delivers the frame — already serialised, the same Buffer for
 *   every recipient — to every matching connection on every node exactly once,
 *   never to an excluded id; the local recipients are written to before the
 *   returned promise settles. It rejects only for failures it could not
 *   route around; one failed recipient never stops the others.
 * - `remove` is called once, when a connection closed, with its membership
 *   still readable; once it resolves the connection has left every room on
 *   every node and no longer counts in any query.
 * - Queries answer for the whole cluster. A node that dies without `close`
 *   must stop counting within a bounded time.
 * - Nothing a backend does may throw out of an event handler or leave an
 *   unhandled rejection: run-time failures are logged through `context.log`.
 * - Optional (a backend written before them keeps working): `userSize`, and
 *   `revoke`/`revoked` together. Without them the manager counts a user's
 *   connections and keeps revocations on this node only.
 */
export interface Backend {
  /** A short name for logs (`memory`, `redis`). */
  readonly name: string
  /** Called once at `register`: acquire connections, subscribe; reject with a coded error when the backend cannot serve. */
  start (context: BackendContext): Promise<void>
  /** Called once on `app.close()`: release everything `start` acquired; never rejects. */
  close (): Promise<void>

  /** A connection just opened on this node (it is already in `context.local`). */
  add (connection: Connection): void
  /** A connection closed: drop it from every room and user, cluster-wide (its membership is still readable). */
  remove (connection: Connection): Promise<void>

  /** The connection joined `room` (`connection.rooms` has it already). */
  join (connection: Connection, room: string): Promise<void>
  /** The connection left `room` (`connection.rooms` no longer has it). */
  leave (connection: Connection, room: string): Promise<void>
  /** The connection is now identified as `user` (undefined: no one), instead of `previous`. */
  identify (connection: Connection, user: string | undefined, previous: string | undefined): Promise<void>
  /** A free-form label was added (`on`) or removed; `connection.labels` already says so. */
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
  /** Closes a connection on any node (the code is valid: the manager checked it); rejects if it does not exist. */
  disconnect (id: string, code: number, reason: string): Promise<void>
  /** Closes every connection of a user on every node; resolves with how many were closed. */
  disconnectUser (user: string, code: number, reason: string): Promise<number>

  /** How many connections are in `room`, on every node. */
  roomSize (room: string): Promise<number>
  /** The rooms the connection `id` is in, wherever it lives. */
  roomsOf (id: string): Promise<string[]>
  /** Every non-empty room, on every node, whose name starts with `prefix`. */
  roomsByPrefix (prefix: string): Promise<string[]>
  /** How many connections the whole cluster has. */
  count (): Promise<number>
  /** Every matching connection on every node. */
  connections (filter: ConnectionFilter): AsyncIterable<ConnectionRef>
  /**
   * Optional: bounded room history and recovery (`app.ws.keepHistory`). Without
   * it, asking for history throws `FST_PACHINKO_HISTORY_UNSUPPORTED`.
   */
  readonly history?: BackendHistory | undefined
  /** How many connections a user has on every node (for `maxConnectionsPerUser`). */
  userSize? (user: string): Promise<number>
  /** Refuses a subject key (`user:<id>`, `label:<label>`) for `forMs` from now, on every node; a later call replaces the window. */
  revoke? (key: string, forMs: number): Promise<void>
  /** Whether any of `keys` is refused now, on any node's word. */
  revoked? (keys: readonly string[]): Promise<boolean>
  /** Optional: cluster-wide storage of the channels hub's presences. Without it, a hub's presence lists this node's presences only. */
  readonly hubPresence?: PresenceStore | undefined
}
