import { serialize, type Connection, type ConnectionSettings } from '../connection/connection.js'
import { deliver, deliverOne } from '../connection/delivery.js'
import { ERR_CONNECTION_NOT_FOUND } from '../errors.js'
import { kLabels, kRooms, kUser } from '../symbols.js'
import type { Backend, BackendContext, ConnectionFilter, ConnectionRef, DeliveryOptions, Target } from './backend.js'

/**
 * The in-process backend (the default), and the local half every clustered
 * backend builds on: the registry of this node's connections, its rooms and
 * users, and delivery to them. Subclasses add the network by overriding the
 * `protected` hooks and the cluster-wide queries.
 */
export class MemoryBackend implements Backend {
  readonly name: string = 'memory'
  protected context!: BackendContext
  protected readonly connectionsById = new Map<string, Connection>()
  protected readonly rooms = new Map<string, Set<Connection>>()
  protected readonly users = new Map<string, Set<Connection>>()

  async start (context: BackendContext): Promise<void> {
    this.context = context
  }

  async close (): Promise<void> {}

  protected get settings (): ConnectionSettings {
    return this.context.settings
  }

  add (connection: Connection): void {
    this.connectionsById.set(connection.id, connection)
  }

  async remove (connection: Connection): Promise<void> {
    if (!this.connectionsById.delete(connection.id)) return
    const rooms = connection[kRooms]
    const user = connection[kUser]
    connection[kRooms] = undefined
    connection[kLabels] = undefined
    const work: Array<Promise<void>> = []
    if (user !== undefined && this.removeFromUser(connection, user)) work.push(this.userClosed(user))
    if (rooms !== undefined) for (const room of rooms) if (this.removeFromRoom(connection, room)) work.push(this.roomClosed(room))
    await Promise.all(work)
  }

  get (id: string): Connection | undefined {
    return this.connectionsById.get(id)
  }

  localConnections (): IterableIterator<Connection> {
    return this.connectionsById.values()
  }

  get localSize (): number {
    return this.connectionsById.size
  }

  async join (connection: Connection, room: string): Promise<void> {
    if (!this.connectionsById.has(connection.id)) return
    const rooms = connection[kRooms] ??= new Set()
    if (rooms.has(room)) return
    rooms.add(room)
    let members = this.rooms.get(room)
    if (members === undefined) {
      members = new Set()
      this.rooms.set(room, members)
    }
    members.add(connection)
    if (members.size === 1) await this.roomOpened(room)
  }

  async leave (connection: Connection, room: string): Promise<void> {
    const rooms = connection[kRooms]
    if (rooms === undefined || !rooms.delete(room)) return
    if (rooms.size === 0) connection[kRooms] = undefined
    if (this.removeFromRoom(connection, room)) await this.roomClosed(room)
  }

  async identify (connection: Connection, user: string | undefined): Promise<void> {
    const previous = connection[kUser]
    if (previous === user || !this.connectionsById.has(connection.id)) return
    connection[kUser] = user
    const work: Array<Promise<void>> = []
    if (previous !== undefined && this.removeFromUser(connection, previous)) work.push(this.userClosed(previous))
    if (user !== undefined) {
      let devices = this.users.get(user)
      if (devices === undefined) {
        devices = new Set()
        this.users.set(user, devices)
      }
      devices.add(connection)
      if (devices.size === 1) work.push(this.userOpened(user))
    }
    await Promise.all(work)
  }

  async label (connection: Connection, label: string, on: boolean): Promise<void> {
    if (on) (connection[kLabels] ??= new Set()).add(label)
    else connection[kLabels]?.delete(label)
  }

  async publish (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void> {
    await this.deliverLocally(target, frame, options)
  }

  async sendTo (id: string, frame: Buffer, options: DeliveryOptions): Promise<void> {
    const connection = this.connectionsById.get(id)
    if (connection === undefined) throw new ERR_CONNECTION_NOT_FOUND(id)
    await deliverOne(connection, frame, this.settings, options.timeoutMs)
  }

  async disconnect (id: string, code: number, reason: string): Promise<void> {
    const connection = this.connectionsById.get(id)
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
    return [...(this.connectionsById.get(id)?.[kRooms] ?? [])]
  }

  async roomsByPrefix (prefix: string): Promise<string[]> {
    return this.localRoomsByPrefix(prefix)
  }

  async count (): Promise<number> {
    return this.connectionsById.size
  }

  async * connections (filter: ConnectionFilter): AsyncIterable<ConnectionRef> {
    for (const connection of this.localMatches(filter)) yield this.refOf(connection)
  }

  /** Delivers to this node's matching connections. */
  protected deliverLocally (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void> | undefined {
    const recipients = target.kind === 'room'
      ? this.rooms.get(target.room)
      : target.kind === 'user' ? this.users.get(target.user) : this.connectionsById.values()
    if (recipients === undefined) return undefined
    return deliver(recipients, frame, options.exclude, this.settings, options.timeoutMs)
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
      : filter.user !== undefined ? this.users.get(filter.user) : this.connectionsById.values()
    if (candidates === undefined) return
    // candidates come from the room when one is asked for, so only user and label need checking
    for (const connection of [...candidates]) {
      if (filter.user !== undefined && connection[kUser] !== filter.user) continue
      if (filter.label !== undefined && !connection[kLabels]?.has(filter.label)) continue
      yield connection
    }
  }

  /** A reference to a local connection, shaped like the ones other nodes' connections get. */
  protected refOf (connection: Connection): ConnectionRef {
    const settings = this.settings
    return {
      id: connection.id,
      nodeId: this.context.nodeId,
      user: connection[kUser],
      labels: [...(connection[kLabels] ?? [])],
      local: true,
      send: async (message) => await deliverOne(connection, Buffer.from(serialize(message)), settings),
      close: async (code, reason) => connection.close(code, reason)
    }
  }

  /** Called when this node's first member joins a room; a clustered backend subscribes here. */
  protected async roomOpened (room: string): Promise<void> {}
  /** Called when this node's last member leaves a room; a clustered backend unsubscribes here. */
  protected async roomClosed (room: string): Promise<void> {}
  /** Called when this node's first connection of a user is identified. */
  protected async userOpened (user: string): Promise<void> {}
  /** Called when this node's last connection of a user goes. */
  protected async userClosed (user: string): Promise<void> {}

  /** True when it was the room's last local member. The room is in the connection's set, so it is in the map too. */
  private removeFromRoom (connection: Connection, room: string): boolean {
    const members = this.rooms.get(room) as Set<Connection>
    members.delete(connection)
    if (members.size > 0) return false
    this.rooms.delete(room)
    return true
  }

  /** True when it was the user's last connection on this node. */
  private removeFromUser (connection: Connection, user: string): boolean {
    const devices = this.users.get(user)
    if (devices === undefined || !devices.delete(connection) || devices.size > 0) return false
    this.users.delete(user)
    return true
  }
}
