import type { Duplex } from 'node:stream'
import { kCorked, kTransport } from '../symbols.js'

/*
 * Per-tick write coalescing: the first write to a socket in a turn of the event
 * loop corks it, and every corked socket is uncorked once, after the turn's I/O
 * callbacks. Frames for one socket then leave in one writev instead of one
 * syscall each; broadcasts, echo bursts and error frames all benefit.
 */

/** Anything with a socket to cork and a flag saying it already is. */
export interface Corkable {
  [kCorked]: boolean
  readonly [kTransport]: Duplex
}

let pending: Corkable[] = []
let scheduled = false

/** Corks the target's socket until the end of this turn of the event loop (idempotent within a turn). */
export function corkForTick (target: Corkable): void {
  if (target[kCorked]) return
  target[kCorked] = true
  target[kTransport].cork()
  pending.push(target)
  if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
}

function flush (): void {
  const batch = pending
  pending = []
  scheduled = false
  for (let i = 0; i < batch.length; i++) {
    const target = batch[i]
    target[kCorked] = false
    target[kTransport].uncork()
  }
}
