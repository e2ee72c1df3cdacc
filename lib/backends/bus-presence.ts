import type { PresenceEntries, PresenceTransport } from './presence-store.js'

interface PresenceRecord {
  entries: Map<string, string>
  expiresAt: number
}

/** The in-process bus's presence records, one per (node, topic), expiring like Redis keys. */
export class BusPresence implements PresenceTransport {
  private readonly records = new Map<string, PresenceRecord>()

  /** `check` throws while the bus is down. */
  constructor (private readonly check: () => void) {}

  async write (node: string, topic: string, set: PresenceEntries, removed: readonly string[], ttlMs: number): Promise<void> {
    this.check()
    const record = this.record(node, topic, ttlMs)
    for (const [ref, json] of set) record.entries.set(ref, json)
    for (const ref of removed) record.entries.delete(ref)
    // like a Redis hash, an empty record is no record
    if (record.entries.size === 0) this.records.delete(`${node}\u0000${topic}`)
  }

  async replace (node: string, topic: string, entries: PresenceEntries, ttlMs: number): Promise<void> {
    this.check()
    this.records.delete(`${node}\u0000${topic}`)
    if (entries.length > 0) this.record(node, topic, ttlMs).entries = new Map(entries)
  }

  async refresh (node: string, topics: readonly string[], ttlMs: number): Promise<boolean> {
    this.check()
    let intact = true
    for (const topic of topics) {
      const record = this.live(node, topic)
      if (record === undefined) intact = false
      else record.expiresAt = Date.now() + ttlMs
    }
    return intact
  }

  async read (nodes: readonly string[], topic: string): Promise<PresenceEntries[]> {
    this.check()
    return nodes.map((node) => [...this.live(node, topic)?.entries ?? []])
  }

  private record (node: string, topic: string, ttlMs: number): PresenceRecord {
    let record = this.live(node, topic)
    if (record === undefined) this.records.set(`${node}\u0000${topic}`, record = { entries: new Map(), expiresAt: 0 })
    record.expiresAt = Date.now() + ttlMs
    return record
  }

  private live (node: string, topic: string): PresenceRecord | undefined {
    const key = `${node}\u0000${topic}`
    const record = this.records.get(key)
    if (record !== undefined && record.expiresAt < Date.now()) {
      this.records.delete(key)
      return undefined
    }
    return record
  }
}
