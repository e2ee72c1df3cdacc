import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { WebSocketLike } from '../connection/websocket-like.js'
import { Connection } from '../connection/connection.js'
import { type ConnectionScope, type Container, type Token } from '../resources/container.js'
import { kHubSocket, kSettings, kTransport, kWriteOwn } from '../symbols.js'
import { CloseCode } from '../connection/close-codes.js'
import { withChannelContext, type Channel } from './channel.js'
import type { ChannelContext, HubBroadcaster, HubBroadcastOptions, LeaveReason } from './channel-context.js'
import type { ChannelSpec, SocketHost } from './channel-spec.js'
import { decodeBinaryHeader, decodeText, encodeFrame, encodeReply, payloadJson, PHX, type HubFrameError, type HubMessage, type HubRef } from './codec.js'
import { handleEvent } from './event-flow.js'
import type { HubConnection } from './hub-connection.js'
import { join } from './join-flow.js'
import { HubRateLimits } from './hub-rate-limit.js'
import { REASON } from './replies.js'
import type { FlowSocket, Joined } from './socket-types.js'
import type { Presence } from './presence/presence-types.js'
import type { ConnectionManager } from '../manager/connection-manager.js'

/** Work queued behind slow handlers beyond this pauses the socket, so a flood waits in TCP rather than in memory. */
const PAUSE_PENDING = 1024
const EMPTY_OBJECT = '{}'

type AnyChannel = Channel<object, object, object>

/** The socket of a hub connection, its HubSocket behind a symbol for the shared listeners. */
type HubWebSocket = WebSocketLike & { [kHubSocket]: HubSocket }

/**
 * One hub connection: its channel set, and the order of its messages. The
 * messages of one topic run one at a time in arrival order (a join finishes
 * before the topic's next event); topics do not wait for each other, and
 * heartbeats are answered at once.
 */
export class HubSocket implements FlowSocket {
  readonly channels = new Map<string, Joined>()
  joining = 0
  closed = false
  /** When the last frame arrived (the idle sweep reads it). */
  lastSeen = Date.now()
  /** Each topic's last queued message, while one is in flight (made on first use: most sockets idle). */
  private tails: Map<string, Promise<void>> | undefined
  private pending = 0
  private paused = false
  /** Paused because the client is not reading its replies fast enough. */
  private writeBound = false
  private scope: ConnectionScope | undefined
  private readonly limits: HubRateLimits | undefined
  private childLog: FastifyBaseLogger | undefined

  constructor (
    readonly host: SocketHost,
    readonly connection: HubConnection,
    readonly request: FastifyRequest,
    readonly assigns: Record<string, unknown>,
    private readonly socket: WebSocketLike,
    private readonly container: Container
  ) {
    this.limits = host.rateLimit === undefined ? undefined : new HubRateLimits(host.rateLimit, host.manager.metrics)
    // listeners shared by every socket, the hub socket behind a symbol: no closures per connection
    const shared = socket as HubWebSocket
    shared[kHubSocket] = this
    socket.on('message', HubSocket.onMessage)
    socket.on('close', HubSocket.onSocketClose)
    socket.on('error', HubSocket.onError)
  }

  private static onMessage (this: HubWebSocket, data: Buffer, isBinary: boolean): void {
    this[kHubSocket].receive(data, isBinary)
  }

  private static onSocketClose (this: HubWebSocket): void {
    this[kHubSocket].onClose()
  }

  private static onError (this: HubWebSocket, err: Error): void {
    this[kHubSocket].log.debug({ err }, 'socket error')
  }

  /** The idle sweep found it silent for too long: closed like a restart, so the client comes back. */
  timedOut (): void {
    this.log.info('hub socket idle; closing')
    this.connection.close(CloseCode.GOING_AWAY, 'idle timeout')
  }

  get hub (): HubBroadcaster {
    return this.host.hub
  }

  get manager (): ConnectionManager {
    return this.host.manager
  }

  get log (): FastifyBaseLogger {
    this.childLog ??= this.request.log.child({ connId: this.connection.id, hub: this.host.path })
    return this.childLog
  }

  private receive (data: Buffer, isBinary: boolean): void {
    this.lastSeen = Date.now()
    this.host.manager.metrics.messagesIn++
    const message = isBinary ? decodeBinaryHeader(data) : decodeText(data.toString(), this.connection.version, this.host.protoAction)
    if ('reason' in message) return this.malformed(message)
    const { topic, event } = message
    if (topic === PHX.topic) {
      if (event === PHX.heartbeat) this.reply(null, message.ref, topic, 'ok', {})
      else this.reply(null, message.ref, topic, 'error', { reason: REASON.unmatched })
      return
    }
    if (this.limits !== undefined && !this.admitted(message)) return
    if (topic.length > this.host.maxTopicLength) {
      this.log.debug({ length: topic.length }, 'topic too long')
      return this.reply(null, message.ref, topic.slice(0, this.host.maxTopicLength), 'error', { reason: REASON.topicTooLong })
    }
    this.schedule(topic, () => this.dispatch(message))
    this.throttle()
  }

  /**
   * A client that sends faster than it reads its replies is read more slowly,
   * rather than closed as a slow consumer: its socket is paused while its
   * replies fill over half the high-water mark.
   */
  private throttle (): void {
    if (this.writeBound) return
    const transport = this.connection[kTransport]
    if (transport.writableLength <= this.host.manager[kSettings].highWaterMark / 2) return
    this.writeBound = true
    this.socket.pause()
    transport.once('drain', () => {
      this.writeBound = false
      if (!this.paused) this.socket.resume()
    })
  }

  /** Takes a token for an event or a join; over the limit the push gets an error reply (or, on sustained abuse, the socket a 1008) and goes no further. */
  private admitted (message: HubMessage): boolean {
    // frames that were already read when an abuser's close began are dropped uncounted
    if (!this.connection.isOpen) return false
    const admission = (this.limits as HubRateLimits).admit(message.event === PHX.join, Date.now())
    if (admission.ok) return true
    if (admission.abusive) {
      this.log.info({ closeCode: CloseCode.POLICY_VIOLATION }, 'rate limit exceeded again and again; closing')
      this.connection.close(CloseCode.POLICY_VIOLATION, 'rate limit exceeded')
      return false
    }
    this.reply(null, message.ref, message.topic.slice(0, this.host.maxTopicLength), 'error', { reason: REASON.rateLimited, code: 'RATE_LIMITED', retryAfterMs: admission.retryAfterMs })
    return false
  }

  private malformed (error: HubFrameError): void {
    this.log.debug({ reason: error.reason }, 'malformed hub frame')
    // answerable only when the frame still says which push it was
    if (error.topic !== undefined && error.ref !== undefined && error.ref !== null) {
      this.reply(null, error.ref, error.topic, 'error', { reason: error.reason })
    }
  }

  private dispatch (message: HubMessage): Promise<void> | undefined {
    const { topic, event } = message
    if (event === PHX.join) return join(this, message)
    const joined = this.channels.get(topic)
    if (event === PHX.leave) {
      if (joined === undefined) return this.reply(null, message.ref, topic, 'ok', {})
      if (message.joinRef !== null && message.joinRef !== joined.context.joinRef) return this.stale(message)
      return this.leave(joined, message.ref)
    }
    if (joined === undefined) return this.reply(null, message.ref, topic, 'error', { reason: REASON.unmatched })
    if (message.joinRef !== null && message.joinRef !== joined.context.joinRef) return this.stale(message)
    return handleEvent(this, joined, message)
  }

  private stale (message: HubMessage): undefined {
    this.log.debug({ topic: message.topic, event: message.event, joinRef: message.joinRef }, 'message for a previous join of the topic; ignored')
    return undefined
  }

  private async leave (joined: Joined, ref: HubRef): Promise<void> {
    await this.end(joined, 'leave')
    this.reply(joined.context.joinRef, ref, joined.topic, 'ok', {})
    this.sendClose(joined.context.joinRef, joined.topic)
  }

  async kick (topic: string, joinRef: HubRef): Promise<void> {
    const joined = this.channels.get(topic)
    if (joined === undefined || joined.context.joinRef !== joinRef) return
    await this.end(joined, 'kick')
    this.sendClose(joinRef, topic)
  }

  async end (joined: Joined, reason: LeaveReason): Promise<void> {
    // a topic's messages run one at a time, so the channel ended is always the topic's current one
    this.channels.delete(joined.topic)
    this.host.channelEnded(joined.context)
    await this.host.manager.leaveRoom(this.connection, this.host.roomOf(joined.topic)).catch((err: unknown) => {
      this.log.error({ err, topic: joined.topic }, 'backend failed to unsubscribe a channel')
    })
    if (typeof joined.channel.onLeave !== 'function') return
    try {
      await joined.channel.onLeave(reason)
    } catch (err) {
      joined.channel.log.error({ err, reason }, 'onLeave failed')
    }
  }

  makeChannel (spec: ChannelSpec, context: ChannelContext): AnyChannel | Promise<AnyChannel> {
    const Cls = spec.cls as unknown as new (...args: unknown[]) => AnyChannel
    if (spec.injected.length === 0) return withChannelContext(context, () => new Cls(...spec.args))
    this.scope ??= this.container.scope(new Map<Token, unknown>([[Connection, this.connection]]))
    return this.container.construct(Cls, [...spec.args], this.scope, (args) => withChannelContext(context, () => new Cls(...args)))
  }

  push (joinRef: HubRef, topic: string, event: string, payload: object): boolean {
    return this.pushJson(joinRef, topic, event, payloadJson(payload))
  }

  pushJson (joinRef: HubRef, topic: string, event: string, json: string): boolean {
    return this.connection[kWriteOwn](encodeFrame(this.connection.version, joinRef, null, topic, event, json))
  }

  presenceFor (context: ChannelContext): Presence {
    return this.host.presenceFor(context)
  }

  async broadcast (topic: string, event: string, payload: object, options?: HubBroadcastOptions): Promise<void> {
    await this.host.broadcast(topic, event, payload, options)
  }

  reply (joinRef: HubRef, ref: HubRef, topic: string, status: 'ok' | 'error', response: unknown): undefined {
    let json: string
    try {
      json = JSON.stringify(response) ?? EMPTY_OBJECT
    } catch (err) {
      this.log.error({ err, topic }, 'a reply could not be serialised')
      json = `{"reason":"${REASON.internal}"}`
      status = 'error'
    }
    this.connection[kWriteOwn](encodeReply(this.connection.version, joinRef, ref, topic, status, json))
    return undefined
  }

  sendClose (joinRef: HubRef, topic: string): void {
    this.connection[kWriteOwn](encodeFrame(this.connection.version, joinRef, joinRef, topic, PHX.close, EMPTY_OBJECT))
  }

  private schedule (topic: string, work: () => Promise<void> | undefined): void {
    const tail = this.tails?.get(topic)
    if (tail === undefined) {
      const result = work()
      if (result !== undefined) this.track(topic, result)
      return
    }
    this.track(topic, tail.then(work))
  }

  private track (topic: string, work: Promise<void>): void {
    this.pending++
    if (!this.paused && this.pending > PAUSE_PENDING) {
      this.paused = true
      this.socket.pause()
    }
    const settled: Promise<void> = work.catch((err: unknown) => this.log.error({ err, topic }, 'hub message failed')).then(() => {
      this.pending--
      const tails = this.tails as Map<string, Promise<void>>
      if (tails.get(topic) === settled && tails.delete(topic) && tails.size === 0) this.tails = undefined
      if (this.paused && this.pending < PAUSE_PENDING / 2) {
        this.paused = false
        if (!this.writeBound) this.socket.resume()
      }
      if (this.closed && this.pending === 0) void this.finish()
    })
    this.tails ??= new Map()
    this.tails.set(topic, settled)
  }

  private onClose (): void {
    this.closed = true
    if (this.pending === 0) void this.finish()
  }

  /** Every channel leaves (`onLeave('disconnect')`), then the connection is unregistered. */
  private async finish (): Promise<void> {
    const joined = [...this.channels.values()]
    this.channels.clear()
    for (const channel of joined) {
      this.host.channelEnded(channel.context)
      if (typeof channel.channel.onLeave !== 'function') continue
      try {
        await channel.channel.onLeave('disconnect')
      } catch (err) {
        channel.channel.log.error({ err }, 'onLeave failed')
      }
    }
    await this.scope?.dispose().catch((err: unknown) => this.log.error({ err }, 'disposing connection-scoped services failed'))
    this.host.released(this)
  }
}
