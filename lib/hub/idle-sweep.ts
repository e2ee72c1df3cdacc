/*
 * One timer per hub, not one per connection: every sweep closes the sockets
 * that sent nothing (not even a heartbeat) for longer than the idle timeout.
 */

/** What the sweep reads and closes. */
export interface Sweepable {
  readonly lastSeen: number
  timedOut (): void
}

/** Sweeps `sockets` every quarter of `idleTimeoutMs` (at least every 10 ms); started on first use, stopped by `stop()`. */
export class IdleSweep {
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly sockets: ReadonlySet<Sweepable>, private readonly idleTimeoutMs: number) {}

  /** Starts the timer if it is not running. */
  start (): void {
    if (this.timer !== undefined || this.idleTimeoutMs === 0) return
    this.timer = setInterval(() => this.sweep(), Math.max(10, Math.floor(this.idleTimeoutMs / 4)))
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  sweep (now = Date.now()): void {
    const oldest = now - this.idleTimeoutMs
    for (const socket of this.sockets) if (socket.lastSeen < oldest) socket.timedOut()
    if (this.sockets.size === 0) this.stop()
  }
}
