import type { ContenderServer, StartOptions } from './contender.js'
import { startPresence } from './pachinko-presence.js'

/** Contender 4p with `intervalMs: 0`: presence diffs flushed on every turn of the event loop instead of every 100 ms. */
export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startPresence(options, 0)
}
