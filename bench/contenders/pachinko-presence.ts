import { Channel } from '../../lib/index.js'
import type { ContenderServer, StartOptions } from './contender.js'
import { startHub } from './pachinko-hub.js'

/*
 * Contender 4p (presence burst only): the hub with presence on its topics,
 * each joiner tracked under its `user`. Joins get `presence_state`, changes go
 * out as one `presence_diff` per topic every `intervalMs`.
 */

export class TrackedTopic extends Channel<{ name: string }> {
  override onJoin (payload: Record<string, unknown>): object {
    this.presence.track(String(payload.user), { device: 'bench' })
    return {}
  }
}

/** The hub with presence diffs batched every `intervalMs`. */
export async function startPresence (options: StartOptions, intervalMs: number): Promise<ContenderServer> {
  return await startHub(options, (hub) => hub.channel('room:{name}', TrackedTopic, { presence: { intervalMs } }))
}

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startPresence(options, 100)
}
