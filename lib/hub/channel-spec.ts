import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Connection } from '../connection/connection.js'
import type { HookChain } from '../hooks/hook-chain.js'
import type { ConnectionManager } from '../manager/connection-manager.js'
import type { ProtoAction } from '../messages/json-frame.js'
import type { Token } from '../resources/container.js'
import type { Channel } from './channel.js'
import type { HubBroadcaster, HubBroadcastOptions } from './channel-context.js'
import type { EventTable } from './event-table.js'
import type { ChannelContext } from './channel-context.js'
import type { ChannelPresenceOptions, Presence } from './presence/presence-types.js'
import type { HistoryOptions } from '../history/history-rooms.js'
import type { RateLimits } from '../rate-limit/options.js'

/** A channel class as `hub.channel` takes it. */
export type ChannelClass<A extends unknown[] = never[]> = new (...args: A) => Channel<object, object, object>

/**
 * Options of `hub.channel(pattern, Channel, options)`: the seam where
 * channel-level features (presence, history) add theirs.
 */
export interface ChannelOptions<A extends readonly unknown[] = readonly unknown[]> {
  /** The constructor's leading arguments; the rest come from the DI container. */
  args?: A
  /**
   * Presence on these topics: every join gets `presence_state`, changes go out as
   * batched `presence_diff`s, and `this.presence` / `hub.presence(topic)` track (docs/presence.md).
   * @default false
   */
  presence?: boolean | ChannelPresenceOptions
  /**
   * Keep the topics' last `size` broadcasts for `ttlMs`: each carries `offset` and `epoch`
   * in its payload, and a join with `{ since: { offset, epoch } }` gets what it missed before its reply (docs/presence.md).
   */
  history?: HistoryOptions
}

/** One declared channel, fixed at declaration. */
export interface ChannelSpec {
  /** The full pattern, include prefixes applied. */
  readonly pattern: string
  readonly cls: ChannelClass<unknown[]>
  readonly args: readonly unknown[]
  /** The constructor parameters the container provides. */
  readonly injected: ReadonlyArray<Token | undefined>
  readonly options: ChannelOptions
  readonly table: EventTable
}

/** What a join hook sees; `refuse` makes the join an `error` reply. */
export interface JoinContext {
  readonly topic: string
  readonly params: Record<string, string>
  /** The join payload (the client's `channel(topic, params)`). */
  readonly payload: Record<string, unknown>
  readonly channel: Channel<object, object, object>
  readonly connection: Connection
  readonly request: FastifyRequest
  readonly assigns: Record<string, unknown>
  readonly log: FastifyBaseLogger
  /** Refuses the join with this reason (and extra response fields). */
  refuse (reason: string, details?: Record<string, unknown>): void
}

/** Runs before a channel's `onJoin`: re-check credentials, rate-limit joins; it may refuse. */
export type JoinHook = (context: JoinContext) => void | Promise<void>

/**
 * A step of the join flow after `onJoin` accepted and the socket subscribed,
 * before the `ok` reply: it may push to the subscriber (they arrive before the
 * reply) and add fields to the reply's response. For channel features such as
 * presence and history.
 */
export type JoinStep = (join: { readonly channel: Channel<object, object, object>, readonly spec: ChannelSpec, response: Record<string, unknown> }) => void | Promise<void>

/** What a hub socket needs from the hub it belongs to. */
export interface SocketHost {
  readonly manager: ConnectionManager
  readonly hub: HubBroadcaster
  readonly path: string
  readonly maxChannels: number
  readonly maxTopicLength: number
  readonly protoAction: ProtoAction
  readonly beforeJoin: readonly JoinHook[]
  /** The hub's rate limits (events, and joins apart), if any. */
  readonly rateLimit: RateLimits | undefined
  readonly joinSteps: readonly JoinStep[]
  find (topic: string): { spec: ChannelSpec, params: Record<string, string> } | undefined
  hooksFor (spec: ChannelSpec): HookChain | undefined
  roomOf (topic: string): string
  broadcast (topic: string, event: string, payload: object, options?: HubBroadcastOptions): Promise<void>
  /** The socket closed and every channel of it has left. */
  released (socket: object): void
  /** A channel of a socket ended (before its `onLeave`). */
  channelEnded (context: ChannelContext): void
  /** Subscribes a joining channel to its topic (recovering what it missed when the join asks and the topic keeps history). */
  subscribe (connection: Connection, topic: string, spec: ChannelSpec, payload: Record<string, unknown>, response: Record<string, unknown>): Promise<void>
  /** `this.presence` of a channel; throws when its topic has no presence. */
  presenceFor (context: ChannelContext): Presence
}
