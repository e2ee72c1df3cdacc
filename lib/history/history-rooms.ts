import { ERR_OPTION_INVALID } from '../errors.js'
import type { HistoryLimits, StreamPosition } from './history-store.js'

/** Options of `app.ws.keepHistory(rooms, options)`. */
export interface HistoryOptions {
  /** The most recent broadcasts kept per room. */
  size: number
  /** How long a broadcast stays recoverable, in ms. */
  ttlMs: number
}

/** The largest `size`: a history is for short gaps, not an event store. */
export const MAX_HISTORY_SIZE = 100_000
const MAX_EPOCH_LENGTH = 64

/**
 * Which rooms keep history: exact names, and prefixes written `'chat:*'`.
 * An exact name wins over a prefix, a longer prefix over a shorter one.
 * With none declared, `match` is one comparison: rooms without history pay nothing.
 */
export class HistoryRooms {
  private readonly exact = new Map<string, HistoryLimits>()
  private readonly prefixes: Array<[string, HistoryLimits]> = []
  private empty = true

  add (pattern: string, options: HistoryOptions): void {
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern === '*') {
      throw new ERR_OPTION_INVALID('keepHistory(rooms)', `must be a room name or a prefix ending in * ('chat:*'), got ${typeof pattern === 'string' ? JSON.stringify(pattern) : typeof pattern}`)
    }
    const limits = resolveHistoryLimits(options)
    if (pattern.endsWith('*')) {
      const prefix = pattern.slice(0, -1)
      const at = this.prefixes.findIndex(([p]) => p === prefix)
      if (at !== -1) this.prefixes.splice(at, 1)
      this.prefixes.push([prefix, limits])
      this.prefixes.sort((a, b) => b[0].length - a[0].length)
    } else {
      this.exact.set(pattern, limits)
    }
    this.empty = false
  }

  /** The history limits of a room, or undefined when it keeps none. */
  match (room: string): HistoryLimits | undefined {
    if (this.empty) return undefined
    const exact = this.exact.get(room)
    if (exact !== undefined) return exact
    for (const [prefix, limits] of this.prefixes) if (room.startsWith(prefix)) return limits
    return undefined
  }
}

function resolveHistoryLimits (options: unknown): HistoryLimits {
  if (options === null || typeof options !== 'object') throw new ERR_OPTION_INVALID('keepHistory(options)', 'must be an object like { size: 100, ttlMs: 120000 }')
  const { size, ttlMs } = options as Record<string, unknown>
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_HISTORY_SIZE) {
    throw new ERR_OPTION_INVALID('keepHistory(options).size', `must be an integer from 1 to ${MAX_HISTORY_SIZE}, got ${String(size)}`)
  }
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new ERR_OPTION_INVALID('keepHistory(options).ttlMs', `must be a positive integer (milliseconds), got ${String(ttlMs)}`)
  }
  return { size, ttlMs }
}

/**
 * A position a client sent back, if it is one: `{ offset, epoch }` with a
 * non-negative integer offset and a short string epoch. Anything else (it
 * comes from the network) counts as no position: `recovered: false`.
 */
export function positionOf (since: unknown): StreamPosition | null {
  if (since === null || typeof since !== 'object') return null
  const { offset, epoch } = since as Record<string, unknown>
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return null
  if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) return null
  return { offset, epoch }
}
