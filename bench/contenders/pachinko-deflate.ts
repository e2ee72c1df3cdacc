import type { ContenderServer, StartOptions } from './contender.js'
import { startPachinko } from './pachinko.js'

/*
 * Contender 4d: pachinko with permessage-deflate on (ws's defaults: context
 * takeover, 15-bit windows, memLevel 8), driven by clients that offer it, to
 * measure its CPU per message and memory per idle connection.
 */
export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startPachinko(options, { compression: true })
}
