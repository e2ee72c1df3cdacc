import type { ContenderServer, StartOptions } from './contender.js'
import { startPachinko } from './pachinko.js'

/*
 * Contender 4h: pachinko with the fan-out room keeping a history (100
 * messages, 2 minutes), to measure what stamping each broadcast with its
 * offset and keeping it costs per delivery. Rooms without history pay nothing.
 */

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startPachinko(options, {}, undefined, (app) => app.ws.keepHistory('fanout', { size: 100, ttlMs: 120_000 }))
}
