import type { PresenceEntry } from './presence-list.js'

/** Pushes `presence_state` (already serialised) to a channel of this node that shows the topic's presence, with its join ref. */
export type StateSender = (json: string) => void

/**
 * One topic's presence on this node: what is tracked here, the diff not yet
 * sent, the subscribers waiting for their state, and the changes the store
 * has not seen. Changes accumulate until the topic's next flush, so a burst
 * of joins is one diff per interval, whatever its size.
 */
export class TopicPresence {
  readonly entries = new Map<string, PresenceEntry>()
  /** The channels showing the topic's presence, by channel. */
  readonly subscribers = new Map<object, StateSender>()
  joins = new Map<string, PresenceEntry>()
  leaves = new Map<string, PresenceEntry>()
  waiting = new Set<object>()
  /** Entries to write to the store, and refs to remove from it. */
  written = new Map<string, PresenceEntry>()
  removed = new Set<string>()
  /** Leaves the other nodes may have missed (an outage): announced again once the backend is back. */
  readonly lost = new Map<string, PresenceEntry>()
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined
  flushing = false

  constructor (readonly topic: string, readonly room: string, readonly intervalMs: number) {}

  add (entry: PresenceEntry): void {
    this.entries.set(entry.ref, entry)
    this.joins.set(entry.ref, entry)
    this.written.set(entry.ref, entry)
    this.removed.delete(entry.ref)
  }

  /** Untracks an entry of this topic (the tracker only passes entries it holds). */
  remove (entry: PresenceEntry): void {
    this.entries.delete(entry.ref)
    this.leaves.set(entry.ref, entry)
    this.written.delete(entry.ref)
    this.removed.add(entry.ref)
  }

  /** Whether the next flush has anything to do. */
  get pending (): boolean {
    return this.joins.size > 0 || this.leaves.size > 0 || this.waiting.size > 0 || this.written.size > 0 || this.removed.size > 0
  }

  /** Nothing tracked, shown or owed to the other nodes: once nothing is pending either, the topic can be forgotten. */
  get idle (): boolean {
    return this.entries.size === 0 && this.subscribers.size === 0 && this.lost.size === 0
  }
}
