import type { Presence, PresenceList } from './presence-types.js'
import type { PresenceTracker } from './tracker.js'

/**
 * A topic's presence seen from one owner: a channel (`this.presence`, whose
 * end untracks what it tracked) or the server (`hub.presence(topic)`).
 */
export class OwnedPresence implements Presence {
  constructor (
    private readonly tracker: PresenceTracker,
    private readonly topic: string,
    private readonly owner: object,
    /** The server's handle untracks a key everywhere on this node; a channel's only what it tracked. */
    private readonly untracksAll: boolean
  ) {}

  track (key: string, meta: object = {}): string {
    return this.update(key, meta) ?? this.tracker.track(this.topic, this.owner, key, meta)
  }

  update (key: string, meta: object): string | undefined {
    const previous = this.tracker.ownedBy(this.topic, this.owner, key)
    if (previous.length === 0) return undefined
    const ref = this.tracker.track(this.topic, this.owner, key, meta, previous[previous.length - 1].ref)
    this.tracker.untrack(this.topic, previous)
    return ref
  }

  untrack (key: string): boolean {
    const entries = this.untracksAll ? this.tracker.entriesOf(this.topic, key) : this.tracker.ownedBy(this.topic, this.owner, key)
    this.tracker.untrack(this.topic, entries)
    return entries.length > 0
  }

  async list (): Promise<PresenceList> {
    return await this.tracker.list(this.topic)
  }
}
