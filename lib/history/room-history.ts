import type { FrameHead, HistoryLimits, HistoryStore, Relay, StreamPosition } from './history-store.js'
import type { HeldFrame, Recoveries } from './recoveries.js'
import type { SyncMarker } from './sync-markers.js'

/** What a recovery ended with. */
export interface Recovery {
  /** True when every message after `since` was replayed; false when some are gone or `since` was null / of another epoch: refetch the state. */
  readonly recovered: boolean
  /** The room's position after the replay: what the client remembers from here on. */
  readonly position: StreamPosition
  /** How many missed messages were sent to the connection. */
  readonly replayed: number
}

/** How a room's broadcasts are delivered (the backend's `DeliveryOptions`, and the frame's offset). */
export interface HistoryDelivery {
  readonly exclude?: ReadonlySet<string>
  readonly timeoutMs?: number
  readonly offset?: number
}

/** A connection, as far as history needs one. */
interface Recipient {
  readonly id: string
}

/** The optional history part of a backend (`backend.history`): absent, rooms cannot keep history. */
export interface BackendHistory {
  /** Appends a broadcast to the room's history (stamping its position on it) and delivers it like `publish`, on every node. */
  publish (room: string, frame: FrameHead, limits: HistoryLimits, options: HistoryDelivery): Promise<StreamPosition>
  /**
   * Joins `connection` to the room (by calling `join`) and sends it, in order, what it
   * missed since `since`; broadcasts that race with the join are neither lost nor doubled.
   */
  recover (connection: Recipient, room: string, since: StreamPosition | null, limits: HistoryLimits, join: () => Promise<void>): Promise<Recovery>
}

/** What a backend lends its history: its store, its local delivery, its held frames. */
export interface HistoryHost<C extends Recipient> {
  readonly store: HistoryStore
  readonly recoveries: Recoveries
  /** Delivers to this node's members of the room. */
  deliverToRoom (room: string, frame: Buffer, options: HistoryDelivery): Promise<void> | undefined
  /** Writes one frame to one connection (no rejection: a closed connection just does not get it). */
  write (connection: C, frame: Buffer): void
  /** How a clustered backend relays an appended frame to the other nodes; undefined in a single process. */
  relay (room: string, options: HistoryDelivery): Relay | undefined
  /** A clustered backend's marker for a recovery's read (see SyncMarkers); undefined in a single process. */
  marker (room: string): SyncMarker | undefined
}

/** The history of a backend's rooms: the rules on top of its store. */
export class RoomHistory<C extends Recipient> implements BackendHistory {
  constructor (private readonly host: HistoryHost<C>) {}

  async publish (room: string, frame: FrameHead, limits: HistoryLimits, options: HistoryDelivery): Promise<StreamPosition> {
    const host = this.host
    const appended = await host.store.append(room, frame, limits, host.relay(room, options))
    await host.deliverToRoom(room, appended.frame, { ...options, offset: appended.position.offset })
    return appended.position
  }

  async recover (connection: C, room: string, since: StreamPosition | null, limits: HistoryLimits, join: () => Promise<void>): Promise<Recovery> {
    const { recoveries, store } = this.host
    const held = recoveries.hold(room, connection)
    try {
      await join()
    } catch (err) {
      recoveries.release(room, connection)
      throw err
    }
    const marker = this.host.marker(room)
    let read
    try {
      read = await store.read(room, since, limits, marker?.relay)
    } catch (err) {
      // joined, but what it missed is unknown: it gets the live broadcasts from here and the error
      this.flush(connection, room, held, -1)
      throw err
    }
    let replayed = 0
    if (read.recovered) {
      for (const entry of read.entries) this.host.write(connection, entry.frame)
      replayed = read.entries.length
    }
    // broadcasts already in what was read may still be on their way over the bus: they are held until the marker is back
    if (marker !== undefined) await marker.arrived
    this.flush(connection, room, held, read.position.offset)
    return { recovered: read.recovered, position: read.position, replayed }
  }

  /** Writes the held frames newer than `after` (all of them for -1) and stops holding. */
  private flush (connection: C, room: string, held: HeldFrame[], after: number): void {
    this.host.recoveries.release(room, connection)
    for (const { frame, offset } of held) if (offset === undefined || offset > after) this.host.write(connection, frame)
  }
}
