import type { FastifyBaseLogger } from 'fastify'
import type { PresenceStore } from '../../backends/presence-store.js'
import { ERR_HUB_PRESENCE_OFF, ERR_OPTION_INVALID } from '../../errors.js'
import type { ChannelContext } from '../channel-context.js'
import type { ChannelOptions, ChannelSpec } from '../channel-spec.js'
import { ClusterCheck } from './cluster-check.js'
import { OwnedPresence } from './handles.js'
import type { Presence } from './presence-types.js'
import { PRESENCE_STATE, PresenceTracker } from './tracker.js'

const DEFAULT_INTERVAL_MS = 100

/** What a hub's presence needs from the hub runtime. */
export interface PresenceRuntime {
  readonly log: FastifyBaseLogger
  find (topic: string): { spec: ChannelSpec } | undefined
  roomOf (topic: string): string
  store (): PresenceStore | undefined
  broadcast (topic: string, event: string, payload: object): Promise<void>
}

/** Checks `hub.channel(…, { presence })` at declaration. */
export function checkPresenceOption (value: unknown): void {
  if (value === undefined || typeof value === 'boolean') return
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ERR_OPTION_INVALID('hub.channel options.presence', 'must be true, false or { intervalMs }')
  const { intervalMs } = value as Record<string, unknown>
  if (intervalMs !== undefined && (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 0 || intervalMs > 60_000)) {
    throw new ERR_OPTION_INVALID('hub.channel options.presence.intervalMs', `must be an integer from 0 to 60000 (ms), got ${String(intervalMs)}`)
  }
}

function intervalOf (options: ChannelOptions): number | undefined {
  const presence = options.presence
  if (presence === undefined || presence === false) return undefined
  return presence === true ? DEFAULT_INTERVAL_MS : presence.intervalMs ?? DEFAULT_INTERVAL_MS
}

/** A served hub's presence: the tracker, its cluster check, and the handles channels and the server use. */
export class HubPresence {
  readonly tracker: PresenceTracker
  private check: ClusterCheck | undefined
  /** The owner of what `hub.presence(topic)` tracks. */
  private readonly server = {}

  constructor (private readonly runtime: PresenceRuntime) {
    this.tracker = new PresenceTracker({
      log: runtime.log,
      intervalOf: (topic) => this.intervalFor(topic),
      roomOf: (topic) => runtime.roomOf(topic),
      store: () => this.store(),
      broadcast: async (topic, event, payload) => await runtime.broadcast(topic, event, payload)
    })
  }

  /** The join step: a presence-enabled channel gets the topic's `presence_state` after every join. */
  joined (context: ChannelContext, spec: ChannelSpec): void {
    if (intervalOf(spec.options) === undefined) return
    this.tracker.subscribe(context.topic, context, (json) => context.socket.pushJson(context.joinRef, context.topic, PRESENCE_STATE, json))
  }

  /** A channel ended: it untracks what it tracked. */
  ended (context: ChannelContext): void {
    this.tracker.ended(context.topic, context)
  }

  /** `this.presence` of a channel. */
  forChannel (context: ChannelContext): Presence {
    this.intervalFor(context.topic)
    context.presence ??= new OwnedPresence(this.tracker, context.topic, context, false)
    return context.presence
  }

  /** `hub.presence(topic)`. */
  forTopic (topic: string): Presence {
    this.intervalFor(topic)
    return new OwnedPresence(this.tracker, topic, this.server, true)
  }

  stop (): void {
    this.tracker.stop()
    this.check?.stop()
  }

  private intervalFor (topic: string): number {
    const found = typeof topic === 'string' ? this.runtime.find(topic) : undefined
    const interval = found === undefined ? undefined : intervalOf(found.spec.options)
    if (interval === undefined) throw new ERR_HUB_PRESENCE_OFF(String(topic))
    return interval
  }

  /** The backend's store; the first use starts the cluster check. */
  private store (): PresenceStore | undefined {
    const store = this.runtime.store()
    if (store !== undefined && this.check === undefined) {
      this.check = new ClusterCheck(this.tracker, store, this.runtime.log)
      this.check.start()
    }
    return store
  }
}
