import { ClusterBackend, type ClusterOptions } from './cluster.js'
import type { ClusterTransport, ConnectionRecord, NodeState, NodeStateUpdate } from './cluster-transport.js'
import { LocalRevocations } from '../credentials/revocations.js'
import { BusPresence } from './bus-presence.js'

/** One node's published state on the bus, with its expiry. */
interface NodeEntry {
  connections: Map<string, ConnectionRecord>
  rooms: Map<string, number>
  users: Map<string, number>
  expiresAt: number
  heartbeatAt: number
}

/**
 * An in-process stand-in for Redis: several Fastify instances in one process
 * form a cluster through it, with the same rules as the Redis backend (it
 * shares all of them; only this transport differs). For tests of multi-node
 * behaviour without a server; `outage()` and `restore()` simulate losing it.
 * @example
 * const bus = createBus()
 * await a.register(pachinko, { backend: bus.backend() })
 * await b.register(pachinko, { backend: bus.backend() })
 */
export class Bus {
  readonly #state = new BusState()

  /** A backend for one more node on this bus. */
  backend (options: ClusterOptions = {}): ClusterBackend {
    return new ClusterBackend(new BusTransport(this.#state), 'bus', options)
  }

  /** Makes the bus unreachable: every operation fails and every node is told it is down. */
  outage (): void {
    this.#state.down = true
    for (const transport of this.#state.transports) transport.status('down', new Error('bus outage'))
  }

  /** Ends an outage; every node is told the bus is back. Subscriptions did not survive it. */
  restore (): void {
    if (!this.#state.down) return
    this.#state.down = false
    this.#state.subscribers.clear()
    for (const transport of this.#state.transports) transport.status('up')
  }
}

/** What the bus holds: subscriptions and each node's published state; only its transports see it. */
class BusState {
  readonly subscribers = new Map<string, Set<BusTransport>>()
  readonly nodes = new Map<string, NodeEntry>()
  readonly transports = new Set<BusTransport>()
  /** Shared by every node, like Redis keys. */
  readonly revocations = new LocalRevocations()
  readonly presence = new BusPresence(() => this.check())
  down = false

  attach (transport: BusTransport): void {
    this.transports.add(transport)
  }

  detach (transport: BusTransport): void {
    this.transports.delete(transport)
    for (const set of this.subscribers.values()) set.delete(transport)
  }

  /** Throws while the bus is down. */
  check (): void {
    if (this.down) throw new Error('bus outage')
  }

  channel (name: string): Set<BusTransport> {
    let set = this.subscribers.get(name)
    if (set === undefined) {
      set = new Set()
      this.subscribers.set(name, set)
    }
    return set
  }

  /** A node's state, or undefined once it expired. */
  entry (node: string, create = false): NodeEntry | undefined {
    let found = this.nodes.get(node)
    if (found !== undefined && found.expiresAt < Date.now()) {
      this.nodes.delete(node)
      found = undefined
    }
    if (found === undefined && create) {
      found = { connections: new Map(), rooms: new Map(), users: new Map(), expiresAt: 0, heartbeatAt: 0 }
      this.nodes.set(node, found)
    }
    return found
  }

  /** A node's state for reading: empty once expired or never published. */
  view (node: string): NodeEntry {
    return this.entry(node) ?? EMPTY_ENTRY
  }

  forget (node: string): void {
    this.nodes.delete(node)
  }

  alive (ttlMs: number): string[] {
    const since = Date.now() - ttlMs
    return [...this.nodes].filter(([, entry]) => entry.heartbeatAt >= since).map(([node]) => node)
  }
}

const EMPTY_ENTRY: NodeEntry = { connections: new Map(), rooms: new Map(), users: new Map(), expiresAt: 0, heartbeatAt: 0 }

/** Makes a new in-process bus. */
export function createBus (): Bus {
  return new Bus()
}

class BusTransport implements ClusterTransport {
  readonly description = 'in-process bus'
  // set by ClusterBackend before connect(), so before any message or status change
  private messageHandler!: (channel: string, payload: Buffer) => void
  private statusHandler!: (status: 'up' | 'down', error?: Error) => void

  constructor (private readonly bus: BusState) {}

  get presence (): BusPresence {
    return this.bus.presence
  }

  async connect (): Promise<void> {
    this.bus.check()
    this.bus.attach(this)
  }

  async close (): Promise<void> {
    this.bus.detach(this)
  }

  onMessage (handler: (channel: string, payload: Buffer) => void): void {
    this.messageHandler = handler
  }

  onStatus (handler: (status: 'up' | 'down', error?: Error) => void): void {
    this.statusHandler = handler
  }

  status (status: 'up' | 'down', error?: Error): void {
    this.statusHandler(status, error)
  }

  async publish (channel: string, payload: Buffer): Promise<number> {
    this.bus.check()
    const receivers = [...this.bus.channel(channel)]
    // like a network hop: never delivered within the publisher's own call stack
    setImmediate(() => { for (const transport of receivers) transport.messageHandler(channel, payload) })
    return receivers.length
  }

  async publishIfConnection (node: string, id: string, channel: string, payload: Buffer): Promise<number> {
    this.bus.check()
    if (!this.bus.view(node).connections.has(id)) return -1
    return await this.publish(channel, payload)
  }

  async subscribe (channels: string[]): Promise<void> {
    this.bus.check()
    for (const channel of channels) this.bus.channel(channel).add(this)
  }

  async unsubscribe (channels: string[]): Promise<void> {
    this.bus.check()
    for (const channel of channels) this.bus.channel(channel).delete(this)
  }

  async updateNode (node: string, update: NodeStateUpdate, ttlMs: number): Promise<void> {
    this.bus.check()
    const entry = this.bus.entry(node, true) as NodeEntry
    for (const [id, rec] of update.connections) {
      if (rec === null) entry.connections.delete(id)
      else entry.connections.set(id, structuredClone(rec))
    }
    for (const [room, count] of update.rooms ?? []) setCount(entry.rooms, room, count)
    for (const [user, count] of update.users ?? []) setCount(entry.users, user, count)
    entry.expiresAt = Date.now() + ttlMs
  }

  async replaceNode (node: string, state: NodeState, ttlMs: number): Promise<void> {
    this.bus.check()
    const entry = this.bus.entry(node, true) as NodeEntry
    entry.connections = new Map(state.connections.map(([id, rec]) => [id, structuredClone(rec)]))
    entry.rooms = new Map(state.rooms)
    entry.users = new Map(state.users)
    entry.expiresAt = Date.now() + ttlMs
  }

  async heartbeat (node: string, ttlMs: number): Promise<boolean> {
    this.bus.check()
    const existing = this.bus.entry(node)
    const entry = existing ?? this.bus.entry(node, true) as NodeEntry
    entry.heartbeatAt = Date.now()
    entry.expiresAt = Date.now() + ttlMs
    return existing !== undefined && existing.connections.size > 0
  }

  async removeNode (node: string): Promise<void> {
    this.bus.check()
    this.bus.forget(node)
  }

  async aliveNodes (ttlMs: number): Promise<string[]> {
    this.bus.check()
    return this.bus.alive(ttlMs)
  }

  async connectionCounts (nodes: string[]): Promise<number[]> {
    this.bus.check()
    return nodes.map((node) => this.bus.view(node).connections.size)
  }

  async roomCounts (nodes: string[], room: string): Promise<number[]> {
    this.bus.check()
    return nodes.map((node) => this.bus.view(node).rooms.get(room) ?? 0)
  }

  async userCounts (nodes: string[], user: string): Promise<number[]> {
    this.bus.check()
    return nodes.map((node) => this.bus.view(node).users.get(user) ?? 0)
  }

  async connection (node: string, id: string): Promise<ConnectionRecord | undefined> {
    this.bus.check()
    const rec = this.bus.view(node).connections.get(id)
    return rec === undefined ? undefined : structuredClone(rec)
  }

  async * rooms (node: string, prefix: string): AsyncIterable<string> {
    this.bus.check()
    for (const room of [...this.bus.view(node).rooms.keys()]) if (room.startsWith(prefix)) yield room
  }

  async * connections (node: string): AsyncIterable<[string, ConnectionRecord]> {
    this.bus.check()
    for (const [id, rec] of [...this.bus.view(node).connections]) yield [id, structuredClone(rec)]
  }

  async revoke (key: string, forMs: number): Promise<void> {
    this.bus.check()
    await this.bus.revocations.revoke(key, forMs)
  }

  async revoked (keys: readonly string[]): Promise<boolean> {
    this.bus.check()
    return await this.bus.revocations.revoked(keys)
  }
}

function setCount (map: Map<string, number>, key: string, count: number): void {
  if (count > 0) map.set(key, count)
  else map.delete(key)
}
