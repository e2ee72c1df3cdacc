/*
 * While a connection recovers a room, live broadcasts to that room are held
 * for it instead of written: once its missed messages are replayed, the held
 * ones newer than the replay follow, so it sees every offset once, in order,
 * whatever raced with its join. Nothing here runs for a room no one recovers.
 */

/** A connection as recovery needs it. */
interface Recipient {
  readonly id: string
}

/** A frame held back from a recovering connection, with its offset when it had one. */
export interface HeldFrame {
  readonly frame: Buffer
  readonly offset: number | undefined
}

/** How a frame is delivered, as far as holding it changes that. */
interface Delivery {
  readonly exclude?: ReadonlySet<string>
  readonly timeoutMs?: number
  readonly offset?: number
}

/** The recoveries in progress on one node, by room. */
export class Recoveries {
  private readonly byRoom = new Map<string, Map<string, HeldFrame[]>>()

  /** How many rooms have a recovery in progress. */
  get size (): number {
    return this.byRoom.size
  }

  /** Starts holding the room's broadcasts for a connection; the list fills until `release`. */
  hold (room: string, connection: Recipient): HeldFrame[] {
    let held = this.byRoom.get(room)
    if (held === undefined) this.byRoom.set(room, held = new Map())
    const frames: HeldFrame[] = []
    held.set(connection.id, frames)
    return frames
  }

  release (room: string, connection: Recipient): void {
    const held = this.byRoom.get(room) as Map<string, HeldFrame[]>
    held.delete(connection.id)
    if (held.size === 0) this.byRoom.delete(room)
  }

  /** For a frame on its way to a room's members: holds it for the recovering ones and returns the delivery that leaves them out. */
  intercept<D extends Delivery> (room: string, frame: Buffer, delivery: D): D {
    const held = this.byRoom.get(room)
    if (held === undefined) return delivery
    const exclude = new Set(delivery.exclude)
    for (const [id, frames] of held) {
      if (exclude.has(id)) continue
      frames.push({ frame, offset: delivery.offset })
      exclude.add(id)
    }
    return { ...delivery, exclude }
  }
}
