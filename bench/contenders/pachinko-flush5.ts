import type { ContenderServer, StartOptions } from './contender.js'
import { startPachinko } from './pachinko.js'

/** Contender 4 with `flushDelayMs: 5`: writes held up to 5 ms so more frames share a syscall (paced fan-out only). */
export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startPachinko(options, { flushDelayMs: 5 })
}
