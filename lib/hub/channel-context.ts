import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Connection } from '../connection/connection.js'
import type { ConnectionManager } from '../manager/connection-manager.js'
import type { HubRef } from './codec.js'
import type { Presence } from './presence/presence-types.js'

/** Why a channel ended: the client left, the server kicked it, the client joined the topic again, or the socket closed. */
export type LeaveReason = 'leave' | 'kick' | 'rejoin' | 'disconnect'

/** Options of a server-side broadcast. */
export interface HubBroadcastOptions {
  /** Connections (ids or handles) that must not receive it. */
  exclude?: string | Connection | Iterable<string | Connection>
}

/** The hub a channel is served by, as a channel sees it: broadcasts on any of its topics. */
export interface HubBroadcaster {
  /** Sends `event` to every subscriber of `topic`, on every node. */
  broadcast (topic: string, event: string, payload?: object, options?: HubBroadcastOptions): Promise<void>
}

/** What a channel needs from the socket it lives on. */
export interface ChannelSocket {
  readonly connection: Connection
  readonly request: FastifyRequest
  readonly assigns: Record<string, unknown>
  readonly manager: ConnectionManager
  /** The hub that serves the socket. */
  readonly hub: HubBroadcaster
  /** Writes `[joinRef, null, topic, event, payload]` to this socket. */
  push (joinRef: HubRef, topic: string, event: string, payload: object): boolean
  /** The same, with the payload already serialised. */
  pushJson (joinRef: HubRef, topic: string, event: string, json: string): boolean
  /** The presence of a channel's topic (`this.presence`). */
  presenceFor (context: ChannelContext): Presence
  /** Ends the channel on `topic` from the server side (phx_close); a no-op when it is no longer joined with `joinRef`. */
  kick (topic: string, joinRef: HubRef): Promise<void>
  /** Broadcasts on a topic of this socket's hub. */
  broadcast (topic: string, event: string, payload: object, options?: HubBroadcastOptions): Promise<void>
  readonly log: FastifyBaseLogger
}

/** One channel's context: made by the socket at join, one per (connection, joined topic). */
export interface ChannelContext {
  readonly topic: string
  readonly params: Record<string, string>
  joinRef: HubRef
  readonly socket: ChannelSocket
  state: object | undefined
  log: FastifyBaseLogger | undefined
  /** `this.presence`, made on first use. */
  presence?: Presence
}
