import { Channel } from '../../lib/index.js'
import type { ContenderServer, StartOptions } from './contender.js'
import { startHub } from './pachinko-hub.js'

/*
 * The presence burst's peer: presence written by hand on the same hub, as
 * Phoenix's own Presence sends it: a fresh `presence_state` for each joiner
 * and one `presence_diff` per join to everyone on the topic (so N joins cost
 * N² frames).
 */

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  // per server, not per module: the tests start several in one process
  const present = new Map<string, Map<string, object>>()
  class HandWrittenTopic extends Channel<{ name: string }> {
    override async onJoin (payload: Record<string, unknown>): Promise<object> {
      const key = String(payload.user)
      const entry = { metas: [{ device: 'bench', phx_ref: key }] }
      const everyone = present.get(this.topic) ?? new Map<string, object>()
      present.set(this.topic, everyone.set(key, entry))
      this.push('presence_state', Object.fromEntries(everyone))
      await this.broadcast('presence_diff', { joins: { [key]: entry }, leaves: {} })
      return {}
    }
  }
  return await startHub(options, (hub) => hub.channel('room:{name}', HandWrittenTopic))
}
