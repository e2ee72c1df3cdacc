import type { FastifyBaseLogger } from 'fastify'
import type { PresenceStore } from '../../backends/presence-store.js'
import type { PresenceTracker } from './tracker.js'

/**
 * Keeps a node's presences true across the cluster, every `checkMs`:
 * refreshes this node's records in the store (they expire with the node),
 * notices a node that went away (its records expired with it: every
 * subscriber here gets a fresh `presence_state`, which the client turns into
 * leaves), and after an outage republishes this node's presences, announces
 * them again as joins and re-syncs its subscribers.
 */
export class ClusterCheck {
  private timer: NodeJS.Timeout | undefined
  private known = new Set<string>()
  /** Nodes seen going away: one that comes back (it was only late) makes this node re-sync too. */
  private readonly gone = new Set<string>()
  /** After a recovery the other nodes may still be republishing: subscribers re-sync once more at the next check. */
  private again = false
  private running = false

  constructor (private readonly tracker: PresenceTracker, private readonly store: PresenceStore, private readonly log: FastifyBaseLogger) {}

  start (): void {
    this.timer = setInterval(() => { void this.check() }, this.store.checkMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /** One check; never rejects. */
  async check (): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      const nodes = await this.store.others()
      const topics = [...this.tracker.topics.values()]
      if (this.tracker.stale) {
        for (const presence of topics) await this.store.replace(presence.room, [...presence.entries.values()].map((entry) => [entry.ref, entry.json]))
        this.tracker.stale = false
        this.again = true
        this.log.info({ topics: topics.length }, 'presence republished after an outage; re-syncing subscribers')
        this.tracker.resync(true)
      } else {
        const rooms = topics.filter((presence) => presence.entries.size > 0).map((presence) => presence.room)
        // a record that expired while this node was too slow to refresh it is republished at the next check
        if (rooms.length > 0 && !await this.store.refresh(rooms)) this.tracker.stale = true
        const lost = [...this.known].filter((node) => !nodes.includes(node))
        const back = nodes.filter((node) => this.gone.delete(node))
        for (const node of lost) this.gone.add(node)
        if (lost.length > 0 || back.length > 0 || this.again) {
          if (lost.length > 0) this.log.info({ nodes: lost }, 'nodes left the cluster; re-syncing presence subscribers')
          this.again = false
          this.tracker.resync(false)
        }
      }
      this.known = new Set(nodes)
    } catch (err) {
      if (!this.tracker.stale) this.log.warn({ err }, 'presence check failed; this node\'s presences will be republished once the backend is back')
      this.tracker.stale = true
    } finally {
      this.running = false
    }
  }
}
