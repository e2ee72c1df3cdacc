import type { DeliveryOptions } from '../../backends/backend.js'
import type { Connection } from '../../connection/connection.js'
import { ERR_HISTORY_UNSUPPORTED, ERR_OPTION_INVALID } from '../../errors.js'
import { MAX_HISTORY_SIZE, positionOf } from '../../history/history-rooms.js'
import type { HistoryLimits } from '../../history/history-store.js'
import type { BackendHistory } from '../../history/room-history.js'
import type { ChannelSpec } from '../channel-spec.js'
import { wrappedHead } from './history-frame.js'

/** What a hub's history needs from its runtime. */
export interface HistoryRuntime {
  find (topic: string): { spec: ChannelSpec } | undefined
  roomOf (topic: string): string
  backendHistory (): BackendHistory | undefined
  subscribe (connection: Connection, room: string): Promise<void>
}

/** Checks `hub.channel(…, { history })` at declaration. */
export function historyLimits (value: unknown): HistoryLimits | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ERR_OPTION_INVALID('hub.channel options.history', 'must be an object like { size: 100, ttlMs: 120000 }')
  const { size, ttlMs } = value as Record<string, unknown>
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_HISTORY_SIZE) {
    throw new ERR_OPTION_INVALID('hub.channel options.history.size', `must be an integer from 1 to ${MAX_HISTORY_SIZE}, got ${String(size)}`)
  }
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new ERR_OPTION_INVALID('hub.channel options.history.ttlMs', `must be a positive integer (milliseconds), got ${String(ttlMs)}`)
  }
  return { size, ttlMs }
}

/**
 * The history of a hub's topics: broadcasts to a topic whose channel keeps
 * history are appended (stamped with offset and epoch) through the backend's
 * history, and a join whose payload has `since` replays what it missed
 * before its reply. Topics without history pay one boolean test per broadcast.
 */
export class HubHistory {
  private any = false

  constructor (private readonly runtime: HistoryRuntime) {}

  /** A declaration with history: the backend must keep history. */
  declared (spec: ChannelSpec, backendName: string): void {
    if (historyLimits(spec.options.history) === undefined) return
    if (this.runtime.backendHistory() === undefined) throw new ERR_HISTORY_UNSUPPORTED(backendName)
    this.any = true
  }

  /** The topic's limits, when its channel keeps history. */
  limitsOf (topic: string): HistoryLimits | undefined {
    if (!this.any) return undefined
    const spec = this.runtime.find(topic)?.spec
    return spec === undefined ? undefined : historyLimits(spec.options.history)
  }

  /** Appends and delivers a broadcast of a topic with history, on every node. */
  async publish (topic: string, event: string, payloadJson: string, limits: HistoryLimits, options: DeliveryOptions): Promise<void> {
    await (this.runtime.backendHistory() as BackendHistory).publish(this.runtime.roomOf(topic), wrappedHead(topic, event, payloadJson), limits, options)
  }

  /** Subscribes a joining channel; with `since` in a history topic's join payload, replays what it missed and says so in the reply. */
  async subscribe (connection: Connection, topic: string, spec: ChannelSpec, payload: Record<string, unknown>, response: Record<string, unknown>): Promise<void> {
    const room = this.runtime.roomOf(topic)
    const limits = historyLimits(spec.options.history)
    if (limits === undefined || payload.since === undefined) return await this.runtime.subscribe(connection, room)
    const history = this.runtime.backendHistory() as BackendHistory
    const recovery = await history.recover(connection, room, positionOf(payload.since), limits, async () => await this.runtime.subscribe(connection, room))
    response.recovered = recovery.recovered
    response.position = recovery.position
  }
}
