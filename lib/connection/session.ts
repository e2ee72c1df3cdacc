import type { WebSocketLike as WebSocket } from './websocket-like.js'
import type { Connection } from './connection.js'
import { dispatchFrame } from '../messages/dispatch.js'
import type { DispatchTable } from '../messages/dispatch-table.js'
import type { HookChain } from '../hooks/hook-chain.js'
import type { FrameConfig } from '../messages/dispatch.js'
import type { Metrics, Refresher } from './connection.js'
import type { FastifyBaseLogger } from 'fastify'
import type { ConnectionContext, WebSocketResource } from '../resources/resource.js'
import { ClientError, errorFrame } from '../messages/wire-errors.js'
import { CloseCode } from './close-codes.js'
import { takeAnswer } from '../contract/requests.js'
import { kRefresher, kRequests, kSession } from '../symbols.js'
import type { RateLimit, TokenBucket } from '../rate-limit/token-bucket.js'
import { refuseOverLimit } from './rate-limited.js'

/*
 * One connection's life: open → onConnect (frames wait) → messages, one at a
 * time in arrival order (or `static concurrency` at a time) → close → the
 * messages received before the close → onDisconnect → unregistered.
 */

const CONNECTING = 0
const OPEN = 1
const REFUSED = 2
const ENDED = 3

/** A connection's context as its session runs it: with the hooks that apply to it. */
export interface SessionContext extends ConnectionContext {
  /** The hooks this connection runs, if any apply. */
  hooks: HookChain | undefined
}

/** How onConnect and the connect hooks ended. */
export interface ConnectOutcome {
  accepted: boolean
  /** What threw, and where. */
  error?: unknown
  stage?: 'beforeConnect' | 'onConnect'
  /** A refusal with its own close code (from a hook). */
  close?: { code: number, reason: string }
}

/** What a session needs from the route it belongs to: the lifecycle steps, run with the route's hooks. */
export interface SessionHost {
  readonly frames: FrameConfig
  readonly metrics: Metrics
  /** The route's message rate limit, if it has one. */
  readonly rateLimit?: RateLimit | undefined
  /** Frames and bytes queued behind a running handler before the socket is paused (the `inboundQueue` option). */
  readonly inbound: { readonly maxFrames: number, readonly maxBytes: number }
  createResources (context: SessionContext): WebSocketResource[] | Promise<WebSocketResource[]>
  tableFor (resource: WebSocketResource): DispatchTable
  connect (resources: WebSocketResource[], context: SessionContext): ConnectOutcome | Promise<ConnectOutcome>
  disconnect (resources: WebSocketResource[], context: SessionContext, code: number, reason: string): Promise<void>
  release (context: SessionContext): void
  log (context: SessionContext): FastifyBaseLogger
}

const NO_RESOURCES: WebSocketResource[] = []

/** A socket as its session's listeners see it: `this` of a ws event listener is the socket. */
type SessionSocket = WebSocket & { [kSession]: Session }

/** A queued binary frame; text frames are queued as bare Buffers. */
class BinaryFrame {
  constructor (readonly data: Buffer) {}
}

export class Session {
  private phase = CONNECTING
  private resources: WebSocketResource[] = NO_RESOURCES
  private table: DispatchTable | undefined
  private inFlight = 0
  private queue: Array<Buffer | BinaryFrame> | undefined
  private head = 0
  private queuedBytes = 0
  private paused = false
  private closed: { code: number, reason: string } | undefined
  private readonly bucket: TokenBucket | undefined

  constructor (
    private readonly route: SessionHost,
    private readonly context: SessionContext,
    socket: WebSocket
  ) {
    // listeners shared by every socket, the session behind a symbol: no closures per connection
    (socket as SessionSocket)[kSession] = this
    socket.on('message', Session.onMessage)
    socket.on('close', Session.onSocketClose)
    socket.on('error', Session.onError)
    this.bucket = route.rateLimit?.bucket(Date.now())
  }

  private static onMessage (this: SessionSocket, data: Buffer, isBinary: boolean): void {
    this[kSession].receive(data, isBinary)
  }

  private static onSocketClose (this: SessionSocket, code: number, reason: Buffer): void {
    this[kSession].onClose(code, reason.toString())
  }

  private static onError (this: SessionSocket, err: Error & { code?: string }): void {
    this[kSession].onSocketError(err)
  }

  /** Runs when a message's asynchronous work settles (`this` is the session: bound per asynchronous message, not per connection). */
  private static settled (this: Session): void {
    this.inFlight--
    this.drain()
  }

  private get connection (): Connection {
    return this.context.connection
  }

  /** Creates the resources and runs onConnect; frames received meanwhile are queued. */
  async open (): Promise<void> {
    const { route, context } = this
    try {
      const made = route.createResources(context)
      this.resources = made instanceof Promise ? await made : made
      const leaf = this.resources[this.resources.length - 1]
      if (typeof leaf.onRefresh === 'function') this.connection[kRefresher] = leaf as Refresher
      this.table = route.tableFor(leaf)
    } catch (err) {
      route.log(context).error({ err }, 'could not create the resource for a connection')
      return this.refuse(CloseCode.INTERNAL_ERROR, 'internal server error')
    }
    const connected = route.connect(this.resources, context)
    const outcome = connected instanceof Promise ? await connected : connected
    if (!outcome.accepted) return this.refused(outcome)
    this.phase = OPEN
    this.drain()
  }

  private refused (outcome: ConnectOutcome): void {
    const log = this.route.log(this.context)
    const { error } = outcome
    if (error instanceof ClientError) {
      log.info({ code: error.code }, `connection refused: ${error.message}`)
      this.connection.send(errorFrame(this.context.discriminator, { code: error.code, message: error.message }))
      return this.refuse(error.close ?? CloseCode.POLICY_VIOLATION, error.message)
    }
    if (error !== undefined) {
      log.error({ err: error }, `${outcome.stage as string} failed; connection refused`)
      return this.refuse(CloseCode.POLICY_VIOLATION, 'connection refused')
    }
    const close = outcome.close ?? { code: CloseCode.POLICY_VIOLATION, reason: 'connection refused' }
    log.info({ code: close.code }, outcome.close === undefined ? 'connection refused by onConnect' : 'connection refused by a beforeConnect hook')
    this.refuse(close.code, close.reason)
  }

  private refuse (code: number, reason: string): void {
    this.phase = REFUSED
    this.queue = undefined
    if (this.closed === undefined) this.connection.close(code, reason)
    else this.route.release(this.context)
  }

  private receive (data: Buffer, isBinary: boolean): void {
    this.route.metrics.messagesIn++
    // answers to server requests go ahead of the queue: the handler awaiting one may be what holds the queue
    if (this.connection[kRequests] !== undefined && takeAnswer(this.connection, data, isBinary)) return
    if (this.bucket !== undefined && !this.admit(data, isBinary)) return
    if (this.phase === OPEN && this.queue === undefined && this.inFlight < (this.table as DispatchTable).concurrency) {
      this.run(data, isBinary)
      return
    }
    if (this.phase === REFUSED) return
    const queue = this.queue ??= []
    queue.push(isBinary ? new BinaryFrame(data) : data)
    this.queuedBytes += data.length
    // beyond the limits the socket is paused, so a flood waits in TCP rather than in memory
    const { maxFrames, maxBytes } = this.route.inbound
    if (!this.paused && (queue.length - this.head > maxFrames || this.queuedBytes > maxBytes)) {
      this.paused = true
      this.route.metrics.inboundPaused++
      this.connection.socket.pause()
    }
  }

  /** Takes a token for the frame; a frame without one is answered RATE_LIMITED (or the connection closed) and not dispatched. */
  private admit (data: Buffer, isBinary: boolean): boolean {
    const limit = this.route.rateLimit as RateLimit
    const bucket = this.bucket as TokenBucket
    const retryAfterMs = limit.take(bucket, Date.now())
    if (retryAfterMs === 0) return true
    const { route, context } = this
    refuseOverLimit(this.connection, route.frames, data, isBinary, retryAfterMs, limit.exceeded(bucket), route.metrics, () => route.log(context))
    return false
  }

  private run (data: Buffer, isBinary: boolean): void {
    const resources = this.resources
    const pending = dispatchFrame(resources[resources.length - 1], this.table as DispatchTable, data, isBinary, this.route.frames, this.context.hooks)
    if (pending === undefined) return
    this.inFlight++
    void pending.then(Session.settled.bind(this))
  }

  /** Runs queued frames while the concurrency allows; ends the session once a close has been seen and nothing is left. */
  private drain (): void {
    const limit = (this.table as DispatchTable).concurrency
    const queue = this.queue
    if (queue !== undefined) {
      while (this.head < queue.length && this.inFlight < limit && this.phase === OPEN) {
        const item = queue[this.head]
        queue[this.head++] = undefined as unknown as Buffer
        const binary = item instanceof BinaryFrame
        const data = binary ? item.data : item
        this.queuedBytes -= data.length
        this.run(data, binary)
      }
      if (this.head === queue.length) {
        this.queue = undefined
        this.head = 0
        this.queuedBytes = 0
      }
      if (this.paused && (this.queue === undefined || this.queue.length - this.head < this.route.inbound.maxFrames / 2)) {
        this.paused = false
        this.connection.socket.resume()
      }
    }
    if (this.closed !== undefined && this.inFlight === 0 && this.queue === undefined && this.phase === OPEN) this.end()
  }

  private onClose (code: number, reason: string): void {
    this.closed = { code, reason }
    if (this.phase === REFUSED) this.route.release(this.context)
    else if (this.phase === OPEN) this.drain()
    // CONNECTING: open() sees `closed` once onConnect settles
  }

  private end (): void {
    this.phase = ENDED
    const { code, reason } = this.closed as { code: number, reason: string }
    void this.route.disconnect(this.resources, this.context, code, reason)
  }

  private onSocketError (err: Error & { code?: string }): void {
    const log = this.route.log(this.context)
    if (typeof err.code === 'string' && err.code.startsWith('WS_ERR_')) log.info({ err }, 'protocol error from client; closing')
    else log.debug({ err }, 'socket error')
  }
}
