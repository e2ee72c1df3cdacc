import type { FastifyBaseLogger } from 'fastify'
import type { HookChain } from '../hooks/hook-chain.js'
import type { Channel } from './channel.js'
import type { ChannelContext, ChannelSocket, LeaveReason } from './channel-context.js'
import type { ChannelSpec, SocketHost } from './channel-spec.js'
import type { HubRef } from './codec.js'

/** A joined channel of a socket. */
export interface Joined {
  readonly topic: string
  readonly channel: Channel<object, object, object>
  readonly context: ChannelContext
  readonly spec: ChannelSpec
  readonly hooks: HookChain | undefined
}

/** What the join and event flows need from the socket they run on. */
export interface FlowSocket extends ChannelSocket {
  readonly host: SocketHost
  readonly channels: Map<string, Joined>
  readonly log: FastifyBaseLogger
  /** Joins in flight: they count against the channel limit. */
  joining: number
  /** The socket closed: a join that finishes now is ended at once. */
  readonly closed: boolean
  /** A `phx_reply`; a response that cannot be serialised becomes `{ reason: 'internal' }` and an error log. */
  reply (joinRef: HubRef, ref: HubRef, topic: string, status: 'ok' | 'error', response: unknown): void
  /** `phx_close` for a channel that ended. */
  sendClose (joinRef: HubRef, topic: string): void
  /** Makes a channel instance for a join. */
  makeChannel (spec: ChannelSpec, context: ChannelContext): Channel<object, object, object> | Promise<Channel<object, object, object>>
  /** Ends a joined channel: drops it, unsubscribes, runs `onLeave`; never rejects. */
  end (joined: Joined, reason: LeaveReason): Promise<void>
}
