import type { ContenderServer, StartOptions } from './contender.js'
import { startWith } from './change-feed.js'

/** The change-feed bench's server with the feed registered. */
export async function start (options?: StartOptions): Promise<ContenderServer> {
  return await startWith(true, options)
}
