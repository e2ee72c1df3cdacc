import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { Connection } from '../connection/connection.js'
import type { ConnectionManager } from '../manager/connection-manager.js'
import { kChannel } from '../symbols.js'
import type { ChannelContext, HubBroadcaster, HubBroadcastOptions, LeaveReason } from './channel-context.js'
import type { Presence } from './presence/presence-types.js'

let constructing: ChannelContext | undefined

/** Runs `make` with `context` visible to the Channel constructor, so subclass constructors can read `this.topic`. */
export function withChannelContext<T> (context: ChannelContext, make: () => T): T {
  const previous = constructing
  constructing = context
  try {
    return make()
  } finally {
    constructing = previous
  }
}

/**
 * The base of every channel: one instance per (connection, joined topic).
 * `onJoin` decides the join, `@handlesEvent` methods answer the topic's events,
 * `onLeave` runs once when it ends. Only decorated methods are reachable from
 * the network: lifecycle methods and helpers never are.
 * @example
 * class Room extends Channel<{ id: string }> {
 *   onJoin () { return { joined: this.topic } }
 *   @handlesEvent('shout', Type.Object({ body: Type.String() }))
 *   async shout (payload: { body: string }) { await this.broadcast('shout', payload); return { ok: true } }
 * }
 */
export class Channel<Params extends object = Record<string, string>, State extends object = Record<string, unknown>, Assigns extends object = Record<string, unknown>> {
  [kChannel]!: ChannelContext

  /**
   * Decides the join: `false` or a thrown `ClientError` refuse it (an `error`
   * reply with the reason); an object is the `ok` reply's response.
   */
  onJoin? (payload: Record<string, unknown>): unknown
  /** Runs once when the channel ends: the client left, a kick, a second join of the topic, or the socket closed. */
  onLeave? (reason: LeaveReason): void | Promise<void>

  constructor () {
    if (constructing !== undefined) this[kChannel] = constructing
  }

  /** The joined topic, e.g. `room:42`. */
  get topic (): string {
    return this[kChannel].topic
  }

  /** The topic pattern's parameters (`room:{id}` → `{ id: '42' }`; a trailing `*` is `'*'`). */
  get params (): Params {
    return this[kChannel].params as Params
  }

  /** The join ref the client's channel carries; pushes to this subscriber carry it. */
  get joinRef (): string | number | null {
    return this[kChannel].joinRef
  }

  /** The socket's connection: id, user, labels. */
  get connection (): Connection {
    return this[kChannel].socket.connection
  }

  /** The HTTP upgrade request, after the hub route's Fastify hooks ran. */
  get request (): FastifyRequest {
    return this[kChannel].socket.request
  }

  /** What the hub's `connect(params, request)` returned for this socket (`{}` when it returned `true` or there is none). */
  get assigns (): Assigns {
    return this[kChannel].socket.assigns as Assigns
  }

  /** The connection manager (`app.ws`). */
  get ws (): ConnectionManager {
    return this[kChannel].socket.manager
  }

  /** The hub serving this channel: `this.hub.broadcast('user:7', 'dm', payload)` reaches another topic (full topic names, include prefixes too). */
  get hub (): HubBroadcaster {
    return this[kChannel].socket.hub
  }

  /** The Fastify instance the hub was declared in. */
  get app (): FastifyInstance {
    return this.request.server
  }

  /** A child logger bound to the connection and topic. */
  get log (): FastifyBaseLogger {
    const context = this[kChannel]
    context.log ??= context.socket.log.child({ topic: context.topic })
    return context.log
  }

  /** This channel's state: a plain object made on first use. */
  get state (): State {
    const context = this[kChannel]
    return (context.state ??= {}) as State
  }

  set state (value: State) {
    this[kChannel].state = value
  }

  /**
   * The presence of this channel's topic (declare the channel with `{ presence: true }`):
   * what it tracks is untracked when the channel ends.
   * @example this.presence.track(this.assigns.user, { online_at: Date.now() })
   */
  get presence (): Presence {
    const context = this[kChannel]
    return context.presence ?? context.socket.presenceFor(context)
  }

  /** Sends an event to this subscriber only (with its join ref); false if the socket is closed or held back. */
  push (event: string, payload: object = {}): boolean {
    const context = this[kChannel]
    return context.socket.push(context.joinRef, context.topic, event, payload)
  }

  /** Sends an event to every subscriber of this topic on every node, this one included. */
  async broadcast (event: string, payload: object = {}, options?: HubBroadcastOptions): Promise<void> {
    await this[kChannel].socket.broadcast(this.topic, event, payload, options)
  }

  /** Sends an event to every subscriber of this topic on every node but this connection. */
  async broadcastFrom (event: string, payload: object = {}): Promise<void> {
    await this[kChannel].socket.broadcast(this.topic, event, payload, { exclude: this.connection })
  }

  /** Ends this channel from the server side: `onLeave('kick')`, then `phx_close` (the client does not rejoin). */
  async leave (): Promise<void> {
    const context = this[kChannel]
    await context.socket.kick(context.topic, context.joinRef)
  }
}
