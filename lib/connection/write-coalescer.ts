import type { Duplex } from 'node:stream'
import { kCorked, kTransport } from '../symbols.js'

/*
 * Write coalescing: the first write to a socket corks it, and every corked
 * socket is uncorked once, after the turn's I/O callbacks (or, with a flush
 * delay, up to that many milliseconds later). Frames for one socket then leave
 * in one writev instead of one syscall each; broadcasts, echo bursts and error
 * frames all benefit.
 */

/** Anything with a socket to cork and a flag saying it already is. */
export interface Corkable {
  [kCorked]: boolean
  readonly [kTransport]: Duplex
}

/** Holds corked sockets until the end of the turn (delay 0) or for up to `delayMs`. */
export class WriteCoalescer {
  private pending: Corkable[] = []
  private scheduled = false

  /** @param delayMs 0: flush after this turn of the event loop; more: at most this many ms after a socket's first held write. */
  constructor (readonly delayMs: number) {}

  /** Corks the target's socket until the next flush (idempotent until then). */
  cork (target: Corkable): void {
    if (target[kCorked]) return
    target[kCorked] = true
    target[kTransport].cork()
    this.pending.push(target)
    if (this.scheduled) return
    this.scheduled = true
    if (this.delayMs === 0) setImmediate(this.flush)
    else setTimeout(this.flush, this.delayMs)
  }

  private readonly flush = (): void => {
    const batch = this.pending
    this.pending = []
    this.scheduled = false
    for (let i = 0; i < batch.length; i++) {
      const target = batch[i]
      target[kCorked] = false
      target[kTransport].uncork()
    }
  }
}

/** The per-tick coalescer every app without a flush delay shares. */
export const perTick = new WriteCoalescer(0)

/** The coalescer for a flush delay: the shared per-tick one for 0. */
export function coalescerFor (delayMs: number): WriteCoalescer {
  return delayMs === 0 ? perTick : new WriteCoalescer(delayMs)
}
