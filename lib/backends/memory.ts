import type { Connection } from '../connection/connection.js'
import { ERR_CONNECTION_NOT_FOUND } from '../errors.js'
import type { Backend, BackendContext, ConnectionFilter, ConnectionRef, DeliveryOptions, Target } from './backend.js'
import type { HistoryStore, Relay } from '../history/history-store.js'
import { MemoryHistory } from '../history/memory-history.js'
import { Recoveries } from '../history/recoveries.js'
import { RoomHistory } from '../history/room-history.js'
import type { SyncMarker } from '../history/sync-markers.js'

/**
 * The in-process backend (the default), and the local half every clustered
 * backend builds on: this node's room and user indexes, and delivery to them.
 * Subclasses add the network by overriding the `protected` hooks and the
 * cluster-wide queries.
 */
export class MemoryBackend implements Backend {
  readonly name: string = 'memory'
  protected context!: BackendContext
  protected readonly rooms = new Map<string, Set<Connection>>()
  protected readonly users = new Map<string, Set<Connection>>()
  /** Made on first use of `history`: until then rooms pay nothing for it. */
  private roomHistory: RoomHistory<Connection> | undefined
  private recoveries: Recoveries | undefined

  async start (context: BackendContext): Promise<void> {
    this.context = context
  }

  async close (): Promise<void> {}

  add (connection: Connection): void {}

  async remove (connection: Connection): Promise<void> {
    const work: Array<Promise<void>> = []
    const user = connection.user
    if (user !== undefined && removeFrom(this.users, user, connection)) work.push(this.userClosed(user))
    for (const room of connection.rooms) if (removeFrom(this.rooms, room, connection)) work.push(this.roomClosed(room))
    await Promise.all(work)
  }

  async join (connection: Connection, room: string): Promise<void> {
    if (addTo(this.rooms, room, connection)) await this.roomOpened(room)
  }

  async leave (connection: Connection, room: string): Promise<void> {
    if (removeFrom(this.rooms, room, connection)) await this.roomClosed(room)
  }

  async identify (connection: Connection, user: string | undefined, previous: string | undefined): Promise<void> {
    const work: Array<Promise<void>> = []
    if (previous !== undefined && removeFrom(this.users, previous, connection)) work.push(this.userClosed(previous))
    if (user !== undefined && addTo(this.users, user, connection)) work.push(this.userOpened(user))
    await Promise.all(work)
  }

  async label (connection: Connection, label: string, on: boolean): Promise<void> {}

  async publish (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void> {
    await this.deliverLocally(target, frame, options)
  }

  async sendTo (id: string, frame: Buffer, options: DeliveryOptions): Promise<void> {
    const connection = this.context.local.get(id)
    if (connection === undefined) throw new ERR_CONNECTION_NOT_FOUND(id)
    await this.context.deliverOne(connection, frame, options)
  }

  async disconnect (id: string, code: number, reason: string): Promise<void> {
    const connection = this.context.local.get(id)
    if (connection === undefined) throw new ERR_CONNECTION_NOT_FOUND(id)
    connection.close(code, reason)
  }

  async disconnectUser (user: string, code: number, reason: string): Promise<number> {
    return this.disconnectLocalUser(user, code, reason)
  }

  async roomSize (room: string): Promise<number> {
    return this.rooms.get(room)?.size ?? 0
  }

  async roomsOf (id: string): Promise<string[]> {
    return [...(this.context.local.get(id)?.rooms ?? [])]
  }

  async roomsByPrefix (prefix: string): Promise<string[]> {
    return this.localRoomsByPrefix(prefix)
  }

  async count (): Promise<number> {
    return this.context.local.size
  }

  async * connections (filter: ConnectionFilter): AsyncIterable<ConnectionRef> {
    for (const connection of this.localMatches(filter)) yield this.context.refOf(connection)
  }

  /** Bounded room history over this backend's history store (a ring buffer per room here), and recovery. */
  get history (): RoomHistory<Connection> | undefined {
    if (this.roomHistory !== undefined) return this.roomHistory
    const store = this.historyStore()
    if (store === undefined) return undefined
    const recoveries = this.recoveries = new Recoveries()
    this.roomHistory = new RoomHistory<Connection>({
      store,
      recoveries,
      deliverToRoom: (room, frame, options) => this.deliverLocally({ kind: 'room', room }, frame, options),
      write: (connection, frame) => {
        this.context.deliver([connection], frame, {})?.catch((err: unknown) => this.context.log.debug({ err }, 'replay to a slow consumer failed'))
      },
      relay: (room, options) => this.relay(room, options),
      marker: (room) => this.marker(room)
    })
    return this.roomHistory
  }

  /** Where room history is kept; undefined when this backend keeps none. */
  protected historyStore (): HistoryStore | undefined {
    return new MemoryHistory()
  }

  /** How an appended history frame reaches the other nodes; a single process has none. */
  protected relay (room: string, options: DeliveryOptions): Relay | undefined {
    return undefined
  }

  /** A recovery's sync marker on a clustered backend; a single process needs none. */
  protected marker (room: string): SyncMarker | undefined {
    return undefined
  }

  /** Delivers to this node's matching connections. */
  protected deliverLocally (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void> | undefined {
    // only while some connection recovers a room: its live broadcasts wait for the replay
    if (this.recoveries !== undefined && this.recoveries.size > 0 && target.kind === 'room') options = this.recoveries.intercept(target.room, frame, options)
    const recipients = target.kind === 'room'
      ? this.rooms.get(target.room)
      : target.kind === 'user' ? this.users.get(target.user) : this.context.local.values()
    if (recipients === undefined) return undefined
    return this.context.deliver(recipients, frame, options)
  }

  protected disconnectLocalUser (user: string, code: number, reason: string): number {
    const devices = this.users.get(user)
    if (devices === undefined) return 0
    for (const connection of [...devices]) connection.close(code, reason)
    return devices.size
  }

  protected localRoomsByPrefix (prefix: string): string[] {
    const found: string[] = []
    for (const room of this.rooms.keys()) if (room.startsWith(prefix)) found.push(room)
    return found
  }

  /** This node's connections matching a filter, smallest candidate set first. */
  protected * localMatches (filter: ConnectionFilter): Iterable<Connection> {
    const candidates = filter.room !== undefined
      ? this.rooms.get(filter.room)
      : filter.user !== undefined ? this.users.get(filter.user) : this.context.local.values()
    if (candidates === undefined) return
    // candidates come from the room when one is asked for, so only user and label need checking
    for (const connection of [...candidates]) {
      if (filter.user !== undefined && connection.user !== filter.user) continue
      if (filter.label !== undefined && !connection.labels.has(filter.label)) continue
      yield connection
    }
  }

  /** How many of this node's connections are in a room (or belong to a user). */
  protected members (map: 'rooms' | 'users', key: string): number {
    return this[map].get(key)?.size ?? 0
  }

  /** Called when this node's first member joins a room; a clustered backend subscribes here. */
  protected async roomOpened (room: string): Promise<void> {}
  /** Called when this node's last member leaves a room; a clustered backend unsubscribes here. */
  protected async roomClosed (room: string): Promise<void> {}
  /** Called when this node's first connection of a user is identified. */
  protected async userOpened (user: string): Promise<void> {}
  /** Called when this node's last connection of a user goes. */
  protected async userClosed (user: string): Promise<void> {}
}

/** Adds to a keyed set; true when the set was new. */
function addTo (map: Map<string, Set<Connection>>, key: string, connection: Connection): boolean {
  const members = map.get(key)
  if (members !== undefined) {
    members.add(connection)
    return false
  }
  map.set(key, new Set([connection]))
  return true
}

/** Removes from a keyed set; true when that emptied it. */
function removeFrom (map: Map<string, Set<Connection>>, key: string, connection: Connection): boolean {
  const members = map.get(key)
  if (members === undefined || !members.delete(connection) || members.size > 0) return false
  map.delete(key)
  return true
}
