import type { ContenderServer, StartOptions } from './contender.js'
import { startWith } from './change-feed.js'

/** The change-feed bench's server without the feed: the baseline. */
export async function start (options?: StartOptions): Promise<ContenderServer> {
  return await startWith(false, options)
}
