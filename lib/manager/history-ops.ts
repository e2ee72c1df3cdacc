import type { Backend, DeliveryOptions } from '../backends/backend.js'
import { serialize, type Connection } from '../connection/connection.js'
import { ERR_HISTORY_NOT_KEPT, ERR_HISTORY_UNSUPPORTED } from '../errors.js'
import { HistoryRooms, positionOf, type HistoryOptions } from '../history/history-rooms.js'
import type { HistoryLimits, StreamPosition } from '../history/history-store.js'
import type { BackendHistory, Recovery } from '../history/room-history.js'
import { frameHead } from '../history/stamp.js'

export type { HistoryOptions, Recovery }

/** Options of a join that recovers: `this.join(room, { since })`, `app.ws.joinRoom(connection, room, { since })`. */
export interface JoinOptions {
  /**
   * The last position the client saw (`{ offset, epoch }` from the last broadcast it got), or null when it has none.
   * Anything that is not a position counts as none: it comes from the network.
   */
  since?: StreamPosition | null
}

/** The manager's side of room history: which rooms keep it, and the calls into the backend's history. */
export class ManagerHistory {
  private readonly rooms = new HistoryRooms()

  constructor (private readonly backend: Backend) {}

  keep (rooms: string, options: HistoryOptions): void {
    historyOf(this.backend)
    this.rooms.add(rooms, options)
  }

  /** The room's limits when it keeps history (one comparison when no room does). */
  limitsOf (room: string): HistoryLimits | undefined {
    return this.rooms.match(room)
  }

  /** Throws unless the room keeps history: call it before anything else of a recovering join. */
  check (room: string): HistoryLimits {
    const limits = this.rooms.match(room)
    if (limits === undefined) throw new ERR_HISTORY_NOT_KEPT(room)
    return limits
  }

  async recover (connection: Connection, room: string, limits: HistoryLimits, options: JoinOptions, join: () => Promise<void>): Promise<Recovery> {
    return await historyOf(this.backend).recover(connection, room, positionOf(options.since), limits, join)
  }

  /** Serialises once, stamps the room's next position on it, keeps it and delivers it on every node. */
  async publish (room: string, message: unknown, limits: HistoryLimits, options: DeliveryOptions): Promise<StreamPosition> {
    return await historyOf(this.backend).publish(room, frameHead(serialize(message)), limits, options)
  }
}

/** The backend's history, or the coded error saying it keeps none. */
function historyOf (backend: Backend): BackendHistory {
  const history = backend.history
  if (history === undefined) throw new ERR_HISTORY_UNSUPPORTED(backend.name)
  return history
}
