import type { HistoryStore } from '../history/history-store.js'
import type { PresenceTransport } from './presence-store.js'

/** What a node publishes about one of its connections. */
export interface ConnectionRecord {
  /** The user it is identified as. */
  u: string | null
  /** Its labels. */
  l: string[]
  /** The rooms it is in. */
  r: string[]
}

/** A partial update of one node's published state; a `null` record or a 0 count deletes the entry. */
export interface NodeStateUpdate {
  connections: Array<[id: string, record: ConnectionRecord | null]>
  rooms?: Array<[room: string, members: number]>
  users?: Array<[user: string, connections: number]>
}

/** One node's whole published state, for a resync. */
export interface NodeState {
  connections: Array<[id: string, record: ConnectionRecord]>
  rooms: Array<[room: string, members: number]>
  users: Array<[user: string, connections: number]>
}

/**
 * The thin part of a clustered backend: a pub/sub bus plus a small store of
 * each node's published state. `ClusterBackend` holds every rule; a transport
 * only moves bytes and keeps keys.
 *
 * Obligations:
 * - `connect` resolves once publishing, subscribing and the store all work, or
 *   rejects with an error that names where it tried to connect.
 * - Channel names are opaque strings; the transport namespaces them (and its
 *   keys) with its prefix so several apps or tests can share one server.
 * - `publish` delivers the payload to every subscriber of the channel, this
 *   node's own subscription included, and resolves with how many nodes got it.
 * - `subscribe`/`unsubscribe` resolve once the server has acknowledged them.
 * - While the connection to the server is down, every method rejects promptly
 *   (no unbounded queue); `onStatus('down')` is reported once when it goes down
 *   and `onStatus('up')` once it is usable again, after which the backend
 *   resubscribes and republishes its state itself.
 * - Every key a node writes expires `ttlMs` after its last write or heartbeat,
 *   so a node that dies without `removeNode` stops counting within `ttlMs`.
 * - `close` releases what the transport created (not clients it was given) and never rejects.
 */
export interface ClusterTransport {
  /** Where it connects, for logs and errors (credentials removed). */
  readonly description: string
  /** Opens the transport: resolves once publishing, subscribing and the store all work. */
  connect (): Promise<void>
  /** Closes everything `connect` opened; never rejects. */
  close (): Promise<void>
  /** Sets the one handler of every payload published on a subscribed channel. */
  onMessage (handler: (channel: string, payload: Buffer) => void): void
  /** Sets the handler told once when the transport goes down and once when it is usable again. */
  onStatus (handler: (status: 'up' | 'down', error?: Error) => void): void

  /** Publishes `payload` on `channel` to every subscriber, this node included; resolves with how many nodes got it. */
  publish (channel: string, payload: Buffer): Promise<number>
  /** Publishes to the node's channel only if the node has published connection `id`; -1 when it has not. */
  publishIfConnection (node: string, id: string, channel: string, payload: Buffer): Promise<number>
  /** Subscribes to `channels`; resolves once the server acknowledged it. */
  subscribe (channels: string[]): Promise<void>
  /** Unsubscribes from `channels`; resolves once the server acknowledged it. */
  unsubscribe (channels: string[]): Promise<void>

  /** Applies a partial update to a node's published state and refreshes its expiry. */
  updateNode (node: string, update: NodeStateUpdate, ttlMs: number): Promise<void>
  /** Replaces a node's whole published state (a resync after an outage). */
  replaceNode (node: string, state: NodeState, ttlMs: number): Promise<void>
  /** Refreshes the node's presence and the expiry of its state; false when its connection state had already expired. */
  heartbeat (node: string, ttlMs: number): Promise<boolean>
  /** Deletes a node's published state and presence (it closed). */
  removeNode (node: string): Promise<void>
  /** Nodes whose last heartbeat is younger than `ttlMs`. */
  aliveNodes (ttlMs: number): Promise<string[]>

  /** For each of `nodes`, in order: how many connections it published. */
  connectionCounts (nodes: string[]): Promise<number[]>
  /** For each of `nodes`, in order: how many of its connections are in `room`. */
  roomCounts (nodes: string[], room: string): Promise<number[]>
  /** For each of `nodes`, in order: how many of its connections are identified as `user`. */
  userCounts (nodes: string[], user: string): Promise<number[]>
  /** What a node published about connection `id`, if anything. */
  connection (node: string, id: string): Promise<ConnectionRecord | undefined>
  /** Every room of a node whose name starts with `prefix`. */
  rooms (node: string, prefix: string): AsyncIterable<string>
  /** Every connection a node published, with its record. */
  connections (node: string): AsyncIterable<[id: string, record: ConnectionRecord]>
  /**
   * Optional: where room history lives, shared by every node (Redis Streams for
   * Redis). Its `append` publishes the stamped frame on the relay's channel in
   * the same step. Without it the backend keeps no history.
   */
  readonly history?: HistoryStore
  /** Optional: stores a revocation key for every node to read, expiring after `forMs` (without it, revocations stay on each node). */
  revoke? (key: string, forMs: number): Promise<void>
  /** Optional, with `revoke`: whether any of the keys is stored and not expired. */
  revoked? (keys: readonly string[]): Promise<boolean>
  /** Optional: where each node's hub presences live (one record per node and topic, expiring like its state). Without it, presence is per node. */
  readonly presence?: PresenceTransport
}
