import { randomBytes } from 'node:crypto'
import type { Relay } from './history-store.js'

/*
 * A recovery on a clustered backend reads the history over one connection
 * while live broadcasts arrive over another (the bus), so a broadcast already
 * in the history may still be on its way. The read publishes a marker on the
 * room's channel in the same step: once the marker is back, everything
 * published before the read has arrived, and the held frames can be sorted
 * out. A marker that never comes (the bus went down) gives up after a while.
 */

/** How long a recovery waits for its marker before it releases the held frames anyway. */
const MARKER_TIMEOUT_MS = 5000

/** A marker on its way: the relay to publish it on and the promise its arrival settles. */
export interface SyncMarker {
  readonly relay: Relay
  readonly arrived: Promise<void>
}

/** The markers this node waits for. */
export class SyncMarkers {
  private readonly pending = new Map<string, () => void>()

  constructor (private readonly timeoutMs = MARKER_TIMEOUT_MS) {}

  /** A new marker for `channel`; `header` is this node's envelope header without its closing brace. */
  open (channel: string, header: string): SyncMarker {
    const id = randomBytes(8).toString('base64url')
    const arrived = new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.timeoutMs)
      timer.unref()
      const pending = this.pending
      function done (): void {
        clearTimeout(timer)
        pending.delete(id)
        resolve()
      }
      pending.set(id, done)
    })
    return { relay: { channel, header: `${header},"op":"sync","q":"${id}"` }, arrived }
  }

  /** A marker came back over the bus. */
  arrived (id: unknown): void {
    if (typeof id === 'string') this.pending.get(id)?.()
  }
}
