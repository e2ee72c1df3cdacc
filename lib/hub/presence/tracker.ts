import type { FastifyBaseLogger } from 'fastify'
import { randomBytes } from 'node:crypto'
import type { PresenceEntries, PresenceStore } from '../../backends/presence-store.js'
import { ERR_HUB_NOT_SERIALIZABLE, ERR_OPTION_INVALID } from '../../errors.js'
import { group, remoteEntries, type PresenceEntry } from './presence-list.js'
import type { PresenceList, PresenceMeta } from './presence-types.js'
import { TopicPresence, type StateSender } from './topic-presence.js'

/** What a tracker needs from the hub it serves. */
export interface PresenceHost {
  readonly log: FastifyBaseLogger
  /** The topic's diff interval in ms, or undefined when no presence-enabled channel serves it (then a coded error is thrown). */
  intervalOf (topic: string): number
  /** The backend room a topic lives in (the store's name for it). */
  roomOf (topic: string): string
  /** The backend's presence store, when it is clustered. */
  store (): PresenceStore | undefined
  broadcast (topic: string, event: string, payload: object): Promise<void>
}

const MAX_KEY_LENGTH = 1024
export const PRESENCE_STATE = 'presence_state'
const DIFF = 'presence_diff'

/**
 * The presences of one hub on this node, by topic. Tracking is synchronous
 * and local; every change waits for the topic's next flush (every
 * `intervalMs`), which writes the store, sends `presence_state` to the
 * channels that joined since, and broadcasts one `presence_diff` to every
 * subscriber on every node. Who owns an entry (a channel, or the server)
 * decides when it is untracked.
 */
export class PresenceTracker {
  readonly topics = new Map<string, TopicPresence>()
  private readonly owned = new Map<object, Set<PresenceEntry>>()
  private readonly refPrefix = randomBytes(6).toString('base64url')
  private counter = 0
  private stopped = false
  /** Set when the store may have missed changes: the next successful check republishes everything. */
  stale = false

  constructor (private readonly host: PresenceHost) {}

  /** The topic's presence, made on first use; throws when no presence-enabled channel serves it. */
  topic (topic: string): TopicPresence {
    let found = this.topics.get(topic)
    if (found === undefined) {
      found = new TopicPresence(topic, this.host.roomOf(topic), this.host.intervalOf(topic))
      this.topics.set(topic, found)
    }
    return found
  }

  track (topic: string, owner: object, key: string, meta: object | undefined, previous?: string): string {
    checkKey(key)
    if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta))) {
      throw new ERR_OPTION_INVALID('presence meta', 'must be a JSON object')
    }
    const ref = this.refPrefix + (++this.counter).toString(36)
    const full: PresenceMeta = previous === undefined ? { ...meta, phx_ref: ref } : { ...meta, phx_ref: ref, phx_ref_prev: previous }
    let json: string
    try {
      json = JSON.stringify([key, full])
    } catch (err) {
      throw new ERR_HUB_NOT_SERIALIZABLE((err as Error).message, { cause: err })
    }
    const presence = this.topic(topic)
    const entry: PresenceEntry = { ref, key, meta: full, json, owner }
    presence.add(entry)
    let mine = this.owned.get(owner)
    if (mine === undefined) this.owned.set(owner, mine = new Set())
    mine.add(entry)
    this.schedule(presence)
    return ref
  }

  /** The entries of `key` that `owner` tracks in `topic`. */
  ownedBy (topic: string, owner: object, key: string): PresenceEntry[] {
    const presence = this.topics.get(topic)
    const mine = this.owned.get(owner)
    if (presence === undefined || mine === undefined) return []
    return [...mine].filter((entry) => entry.key === key && presence.entries.get(entry.ref) === entry)
  }

  /** Every entry of `key` in `topic` on this node, whoever tracks it. */
  entriesOf (topic: string, key: string): PresenceEntry[] {
    return [...this.topics.get(topic)?.entries.values() ?? []].filter((entry) => entry.key === key)
  }

  untrack (topic: string, entries: readonly PresenceEntry[]): void {
    const presence = this.topics.get(topic)
    if (presence === undefined || entries.length === 0) return
    for (const entry of entries) {
      presence.remove(entry)
      const mine = this.owned.get(entry.owner) as Set<PresenceEntry>
      mine.delete(entry)
      if (mine.size === 0) this.owned.delete(entry.owner)
    }
    this.schedule(presence)
  }

  /** A presence-enabled channel joined: it gets the topic's state at the next flush. */
  subscribe (topic: string, channel: object, send: StateSender): void {
    const presence = this.topic(topic)
    presence.subscribers.set(channel, send)
    presence.waiting.add(channel)
    this.schedule(presence)
  }

  /** A channel ended: it no longer shows the topic, and what it tracked leaves. */
  ended (topic: string, channel: object): void {
    const presence = this.topics.get(topic)
    if (presence === undefined) return
    presence.subscribers.delete(channel)
    presence.waiting.delete(channel)
    const mine = this.owned.get(channel)
    this.owned.delete(channel)
    if (mine !== undefined) for (const entry of mine) presence.remove(entry)
    this.schedule(presence)
  }

  /** Every presence of the topic, on every node. */
  async list (topic: string): Promise<PresenceList> {
    this.host.intervalOf(topic)
    const local = this.topics.get(topic)?.entries.values() ?? []
    return group(local, remoteEntries(await this.readOthers(this.host.roomOf(topic))))
  }

  /** Makes every subscriber of every topic get a fresh `presence_state` (a node left, or the store came back). */
  resync (rejoin: boolean): void {
    for (const presence of this.topics.values()) {
      for (const channel of presence.subscribers.keys()) presence.waiting.add(channel)
      if (rejoin) {
        for (const entry of presence.entries.values()) presence.joins.set(entry.ref, entry)
        for (const entry of presence.lost.values()) presence.leaves.set(entry.ref, entry)
        presence.lost.clear()
      }
      this.schedule(presence)
    }
  }

  stop (): void {
    this.stopped = true
    for (const presence of this.topics.values()) {
      clearTimeout(presence.timer as NodeJS.Timeout)
      clearImmediate(presence.timer as NodeJS.Immediate)
      presence.timer = undefined
    }
  }

  private schedule (presence: TopicPresence): void {
    if (presence.timer !== undefined || presence.flushing || this.stopped) return
    if (!presence.pending) {
      if (presence.idle) this.topics.delete(presence.topic)
      return
    }
    const run = (): void => { void this.flush(presence) }
    presence.timer = presence.intervalMs === 0 ? setImmediate(run) : setTimeout(run, presence.intervalMs)
    presence.timer.unref()
  }

  /** Writes the store, sends the waiting states, broadcasts the diff; never rejects. */
  private async flush (presence: TopicPresence): Promise<void> {
    presence.timer = undefined
    presence.flushing = true
    const { joins, leaves, waiting, written, removed } = presence
    presence.joins = new Map()
    presence.leaves = new Map()
    presence.waiting = new Set()
    presence.written = new Map()
    presence.removed = new Set()
    // the state shows what was tracked when the flush began: later changes are the next diff's
    const local = waiting.size > 0 ? [...presence.entries.values()] : []
    const store = this.host.store()
    try {
      if (store !== undefined && (written.size > 0 || removed.size > 0)) {
        await store.write(presence.room, [...written.values()].map((entry) => [entry.ref, entry.json]), [...removed]).catch((err: unknown) => {
          this.missed(presence, leaves)
          this.host.log.warn({ err, topic: presence.topic }, 'presence store write failed; this node\'s presences will be republished')
        })
      }
      if (waiting.size > 0) {
        // readOthers answers [] without a store
        const remote = await this.readOthers(presence.room).catch((err: unknown) => {
          this.host.log.warn({ err, topic: presence.topic }, 'presence of other nodes unavailable; the state sent lists this node\'s only')
          return []
        })
        const json = JSON.stringify(group(local, remoteEntries(remote)))
        for (const channel of waiting) presence.subscribers.get(channel)?.(json)
      }
      if (joins.size > 0 || leaves.size > 0) {
        await this.host.broadcast(presence.topic, DIFF, { joins: group(joins.values()), leaves: group(leaves.values()) }).catch((err: unknown) => {
          this.missed(presence, leaves)
          this.host.log.warn({ err, topic: presence.topic }, 'presence diff did not reach every node')
        })
      }
    } finally {
      presence.flushing = false
      this.schedule(presence)
    }
  }

  /** Other nodes may not have seen these changes: what left is announced again, and everything republished, at the next check. */
  private missed (presence: TopicPresence, leaves: ReadonlyMap<string, PresenceEntry>): void {
    this.stale = true
    for (const [ref, entry] of leaves) presence.lost.set(ref, entry)
  }

  private async readOthers (room: string): Promise<PresenceEntries[]> {
    const store = this.host.store()
    if (store === undefined) return []
    return await store.read(await store.others(), room)
  }
}

function checkKey (key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new ERR_OPTION_INVALID('presence key', `must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`)
  }
}
