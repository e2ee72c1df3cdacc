import { randomBytes } from 'node:crypto'
import type { FrameHead, HistoryEntry, HistoryLimits, HistoryRead, HistoryStore, StreamPosition } from './history-store.js'
import { stamp } from './stamp.js'

/** A new epoch: random, so a restarted process never reuses one. */
export function newEpoch (): string {
  return randomBytes(6).toString('base64url')
}

/** One stream's ring: the last `size` entries, oldest at `start`. */
class Ring {
  readonly entries: Array<HistoryEntry & { at: number }> = []
  start = 0
  offset = 0
  touched: number

  constructor (readonly epoch: string, readonly limits: HistoryLimits, now: number) {
    this.touched = now
  }

  push (entry: HistoryEntry & { at: number }): void {
    const size = this.limits.size
    if (this.entries.length < size) this.entries.push(entry)
    else {
      this.entries[this.start] = entry
      this.start = (this.start + 1) % size
    }
  }

  /** The kept entry with `offset`, if it is still kept. */
  at (offset: number): (HistoryEntry & { at: number }) | undefined {
    const back = this.offset - offset
    if (back < 0 || back >= this.entries.length) return undefined
    const index = (this.start + this.entries.length - 1 - back) % this.entries.length
    return this.entries[index]
  }
}

/**
 * The in-memory store: a ring buffer per stream. Streams not appended to for
 * their `ttlMs` are dropped as later appends pass by (the map is kept in
 * order of last append), so there is no timer and no unbounded growth.
 */
export class MemoryHistory implements HistoryStore {
  private readonly rings = new Map<string, Ring>()

  constructor (private readonly now: () => number = Date.now) {}

  async append (stream: string, frame: FrameHead, limits: HistoryLimits): Promise<{ position: StreamPosition, frame: Buffer }> {
    const now = this.now()
    const ring = this.ring(stream, limits, now)
    this.rings.delete(stream)
    this.rings.set(stream, ring)
    ring.touched = now
    const position = { offset: ++ring.offset, epoch: ring.epoch }
    const stamped = stamp(frame, position)
    ring.push({ offset: position.offset, frame: stamped, at: now })
    this.sweep(now)
    return { position, frame: stamped }
  }

  async read (stream: string, since: StreamPosition | null, limits: HistoryLimits): Promise<HistoryRead> {
    const now = this.now()
    const ring = this.ring(stream, limits, now)
    const position = { offset: ring.offset, epoch: ring.epoch }
    if (since === null || since.epoch !== ring.epoch || since.offset > ring.offset) return { recovered: false, position }
    const entries: HistoryEntry[] = []
    for (let offset = since.offset + 1; offset <= ring.offset; offset++) {
      const entry = ring.at(offset)
      if (entry === undefined || now - entry.at > ring.limits.ttlMs) return { recovered: false, position }
      entries.push({ offset, frame: entry.frame })
    }
    return { recovered: true, position, entries }
  }

  /** The stream's ring, a new one (new epoch) when it had none or it expired. */
  private ring (stream: string, limits: HistoryLimits, now: number): Ring {
    const ring = this.rings.get(stream)
    if (ring !== undefined && now - ring.touched <= ring.limits.ttlMs) return ring
    const fresh = new Ring(newEpoch(), limits, now)
    this.rings.set(stream, fresh)
    return fresh
  }

  /** Drops the idle streams at the front; the stream just appended to is last and fresh, so it stops there at the latest. */
  private sweep (now: number): void {
    for (const [stream, ring] of this.rings) {
      if (now - ring.touched <= ring.limits.ttlMs) break
      this.rings.delete(stream)
    }
  }
}
