import type { Connection } from '../connection/connection.js'
import { settleAll } from '../connection/delivery.js'
import { nodeOf } from '../connection/ids.js'
import { ERR_BACKEND_CONNECT, ERR_BACKEND_DEPENDENCY_MISSING, ERR_BACKEND_UNAVAILABLE, ERR_CONNECTION_NOT_FOUND } from '../errors.js'
import type { BackendContext, ConnectionFilter, ConnectionRef, DeliveryOptions, Target } from './backend.js'
import { ALL, node, room, user } from './cluster-channels.js'
import { receiveClusterMessage, type ReceiveHost } from './cluster-receive.js'
import { clusterTiming, type ClusterOptions } from './cluster-options.js'
import { NodePresence } from './cluster-presence.js'
import { Publications } from './cluster-publications.js'
import { ClusterRequests } from './cluster-requests.js'
import type { ClusterTransport, ConnectionRecord } from './cluster-transport.js'
import { matches, record, sum } from './cluster-records.js'
import { seal, type EnvelopeHeader } from './envelope.js'
import { MemoryBackend } from './memory.js'
import { clusterPresenceStore, type PresenceStore } from './cluster-presence-store.js'
import type { HistoryStore, Relay } from '../history/history-store.js'
import { SyncMarkers, type SyncMarker } from '../history/sync-markers.js'

export type { ClusterOptions } from './cluster-options.js'

/**
 * The rules of a multi-node backend, over a thin transport: local delivery
 * first, then one publication per broadcast carrying the serialised frame;
 * a node subscribes only to the rooms and users it has local members of;
 * queries combine this node's memory with what the other nodes published
 * (see NodePresence for how that stays true through outages and crashes).
 */
export class ClusterBackend extends MemoryBackend {
  override readonly name: string
  private readonly heartbeatMs: number
  private readonly ttlMs: number
  private presence!: NodePresence
  private requests!: ClusterRequests
  private readonly publications = new Publications(() => this.presence.connected, () => this.context.log)
  private readonly subscribing = new Map<string, Promise<void>>()
  /** Cluster-wide storage of the hub's presences, when the transport keeps it (set by start). */
  hubPresence: PresenceStore | undefined
  private readonly markers = new SyncMarkers()

  constructor (private readonly transport: ClusterTransport, name: string, options: ClusterOptions = {}) {
    super()
    this.name = name
    const timing = clusterTiming(options)
    this.heartbeatMs = timing.heartbeatMs
    this.ttlMs = timing.ttlMs
  }

  override async start (context: BackendContext): Promise<void> {
    await super.start(context)
    this.requests = new ClusterRequests(context.nodeId, async (to, header, frame) => await this.transport.publish(node(to), seal(header, frame)), () => context.log)
    this.presence = new NodePresence(this.transport, this.name, context.nodeId, this.heartbeatMs, this.ttlMs, context.log, {
      channels: () => [node(context.nodeId), ALL, ...[...this.rooms.keys()].map(room), ...[...this.users.keys()].map(user)],
      state: () => ({
        connections: [...context.local.values()].map((c): [string, ConnectionRecord] => [c.id, record(c)]),
        rooms: [...this.rooms].map(([name, members]) => [name, members.size]),
        users: [...this.users].map(([name, devices]) => [name, devices.size])
      }),
      size: () => context.local.size
    })
    this.hubPresence = clusterPresenceStore(this.transport.presence, context.nodeId, this.heartbeatMs, this.ttlMs, async () => await this.others())
    const host: ReceiveHost = {
      context,
      markers: this.markers,
      requests: this.requests,
      deliverLocally: (target, frame, options) => this.deliverLocally(target, frame, options),
      disconnectLocalUser: (name, code, reason) => this.disconnectLocalUser(name, code, reason)
    }
    this.transport.onMessage((channel, payload) => receiveClusterMessage(host, channel, payload))
    this.transport.onStatus((status, error) => this.presence.statusChanged(status, error))
    try {
      await this.transport.connect()
      await this.transport.subscribe([node(context.nodeId), ALL])
      await this.transport.heartbeat(context.nodeId, this.ttlMs)
    } catch (err) {
      await this.transport.close()
      if (err instanceof ERR_BACKEND_DEPENDENCY_MISSING) throw err
      throw new ERR_BACKEND_CONNECT(this.name, this.transport.description, (err as Error).message, { cause: err })
    }
    this.presence.start()
  }

  override async close (): Promise<void> {
    await this.presence?.stop()
    await this.transport.close()
  }

  override add (connection: Connection): void {
    super.add(connection)
    void this.presence.update({ connections: [[connection.id, record(connection)]] })
  }

  override async remove (connection: Connection): Promise<void> {
    const owner = connection.user
    await super.remove(connection)
    await this.presence.update({
      connections: [[connection.id, null]],
      rooms: [...connection.rooms].map((name) => [name, this.members('rooms', name)]),
      users: owner === undefined ? [] : [[owner, this.members('users', owner)]]
    })
  }

  override async join (connection: Connection, name: string): Promise<void> {
    await super.join(connection, name)
    await this.subscribing.get(room(name))
    await this.presence.update({ connections: [[connection.id, record(connection)]], rooms: [[name, this.members('rooms', name)]] })
  }

  override async leave (connection: Connection, name: string): Promise<void> {
    await super.leave(connection, name)
    await this.presence.update({ connections: [[connection.id, record(connection)]], rooms: [[name, this.members('rooms', name)]] })
  }

  override async identify (connection: Connection, name: string | undefined, previous: string | undefined): Promise<void> {
    await super.identify(connection, name, previous)
    const users: Array<[string, number]> = []
    for (const u of [previous, name]) if (u !== undefined) users.push([u, this.members('users', u)])
    if (name !== undefined) await this.subscribing.get(user(name))
    await this.presence.update({ connections: [[connection.id, record(connection)]], users })
  }

  override async label (connection: Connection, label: string, on: boolean): Promise<void> {
    await super.label(connection, label, on)
    await this.presence.update({ connections: [[connection.id, record(connection)]] })
  }

  override async publish (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void> {
    const channel = target.kind === 'room' ? room(target.room) : target.kind === 'user' ? user(target.user) : ALL
    const remote = this.publications.send(this.remote(this.transport.publish(channel, seal(this.broadcastHeader(options), frame))))
    const local = this.deliverLocally(target, frame, options)
    if (remote !== undefined || local !== undefined) await settleAll([local, remote])
  }

  override async sendTo (id: string, frame: Buffer, options: DeliveryOptions): Promise<void> {
    const home = nodeOf(id)
    if (home === this.context.nodeId) return await super.sendTo(id, frame, options)
    const sent = await this.remote(this.transport.publishIfConnection(home, id, node(home), seal({ n: this.context.nodeId, op: 'send', id }, frame)))
    if (sent <= 0) throw new ERR_CONNECTION_NOT_FOUND(id)
  }

  /** Asks a connection on another node through its node channel; resolves here with the client's reply. */
  async request (id: string, frame: Buffer, timeoutMs: number): Promise<unknown> {
    const home = nodeOf(id)
    // the manager has looked for it locally already
    if (home === this.context.nodeId) throw new ERR_CONNECTION_NOT_FOUND(id)
    const { q, settled } = this.requests.open(id, timeoutMs)
    try {
      const sent = await this.remote(this.transport.publishIfConnection(home, id, node(home), seal({ n: this.context.nodeId, op: 'request', id, q, t: timeoutMs }, frame)))
      if (sent <= 0) throw new ERR_CONNECTION_NOT_FOUND(id)
    } catch (err) {
      this.requests.fail(q, err as Error)
    }
    return await settled
  }

  override async disconnect (id: string, code: number, reason: string): Promise<void> {
    const home = nodeOf(id)
    if (home === this.context.nodeId) return await super.disconnect(id, code, reason)
    const sent = await this.remote(this.transport.publishIfConnection(home, id, node(home), seal({ n: this.context.nodeId, op: 'close', id, c: code, r: reason })))
    if (sent <= 0) throw new ERR_CONNECTION_NOT_FOUND(id)
  }

  override async disconnectUser (name: string, code: number, reason: string): Promise<number> {
    const local = this.disconnectLocalUser(name, code, reason)
    const remote = sum(await this.remote(this.others().then(async (nodes) => await this.transport.userCounts(nodes, name))))
    if (remote > 0) await this.remote(this.transport.publish(user(name), seal({ n: this.context.nodeId, op: 'close', c: code, r: reason })))
    return local + remote
  }

  override async userSize (name: string): Promise<number> {
    return this.members('users', name) + sum(await this.remote(this.others().then(async (nodes) => await this.transport.userCounts(nodes, name))))
  }

  // kept here too: this node refuses what it revoked even while the transport is down (or stores none)
  override async revoke (key: string, forMs: number): Promise<void> {
    await super.revoke(key, forMs)
    if (this.transport.revoke !== undefined) await this.remote(this.transport.revoke(key, forMs))
  }

  /** While the transport is down, this node's own revocations answer: an outage must not refuse every identification. */
  override async revoked (keys: readonly string[]): Promise<boolean> {
    if (await super.revoked(keys)) return true
    return await this.transport.revoked?.(keys).catch((err: unknown) => {
      this.context.log.warn({ err }, 'cannot read revocations from the backend; answering from this node\'s own')
      return false
    }) ?? false
  }

  override async roomSize (name: string): Promise<number> {
    const local = this.members('rooms', name)
    return local + sum(await this.remote(this.others().then(async (nodes) => await this.transport.roomCounts(nodes, name))))
  }

  override async count (): Promise<number> {
    return this.context.local.size + sum(await this.remote(this.others().then(async (nodes) => await this.transport.connectionCounts(nodes))))
  }

  override async roomsOf (id: string): Promise<string[]> {
    const home = nodeOf(id)
    if (home === this.context.nodeId) return await super.roomsOf(id)
    return (await this.remote(this.transport.connection(home, id)))?.r ?? []
  }

  override async roomsByPrefix (prefix: string): Promise<string[]> {
    const found = new Set(this.localRoomsByPrefix(prefix))
    await this.remote((async () => {
      for (const other of await this.others()) for await (const name of this.transport.rooms(other, prefix)) found.add(name)
    })())
    return [...found]
  }

  override async * connections (filter: ConnectionFilter): AsyncIterable<ConnectionRef> {
    yield * super.connections(filter)
    for (const other of await this.remote(this.others())) {
      const records = this.transport.connections(other)[Symbol.asyncIterator]()
      while (true) {
        const next = await this.remote(records.next())
        if (next.done === true) break
        const [id, rec] = next.value
        if (matches(rec, filter)) yield this.context.refFor(id, other, rec.u ?? undefined, rec.l)
      }
    }
  }

  protected override historyStore (): HistoryStore | undefined {
    return this.transport.history
  }

  protected override relay (name: string, options: DeliveryOptions): Relay {
    return { channel: room(name), header: JSON.stringify(this.broadcastHeader(options)).slice(0, -1) }
  }

  protected override marker (name: string): SyncMarker {
    return this.markers.open(room(name), JSON.stringify({ n: this.context.nodeId }).slice(0, -1))
  }

  private broadcastHeader (options: DeliveryOptions): EnvelopeHeader {
    const header: EnvelopeHeader = { n: this.context.nodeId }
    if (options.exclude !== undefined && options.exclude.size > 0) header.x = [...options.exclude]
    return header
  }

  protected override async roomOpened (name: string): Promise<void> {
    await this.subscribeTo(room(name))
  }

  protected override async roomClosed (name: string): Promise<void> {
    await this.unsubscribeFrom(room(name))
  }

  protected override async userOpened (name: string): Promise<void> {
    await this.subscribeTo(user(name))
  }

  protected override async userClosed (name: string): Promise<void> {
    await this.unsubscribeFrom(user(name))
  }

  private async subscribeTo (channel: string): Promise<void> {
    const pending = this.transport.subscribe([channel]).catch((err: unknown) => this.presence.lost('subscribe', err))
    this.subscribing.set(channel, pending)
    await pending
    if (this.subscribing.get(channel) === pending) this.subscribing.delete(channel)
  }

  private async unsubscribeFrom (channel: string): Promise<void> {
    this.subscribing.delete(channel)
    await this.transport.unsubscribe([channel]).catch((err: unknown) => this.presence.lost('unsubscribe', err))
  }

  /** Publishes part of this node's state; a failure marks the state for a full republish instead of failing the caller. */
  private async others (): Promise<string[]> {
    return (await this.transport.aliveNodes(this.ttlMs)).filter((id) => id !== this.context.nodeId)
  }

  /** Runs a cross-node operation, turning a transport failure into a coded error. */
  private async remote<T> (operation: Promise<T>): Promise<T> {
    try {
      return await operation
    } catch (err) {
      throw new ERR_BACKEND_UNAVAILABLE(this.name, (err as Error).message, { cause: err })
    }
  }
}
