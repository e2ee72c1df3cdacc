import type { WebSocketLike as WebSocket } from './websocket-like.js'
import type { Connection } from './connection.js'
import { dispatchFrame } from '../messages/dispatch.js'
import type { DispatchTable } from '../messages/dispatch-table.js'
import type { HookChain } from '../hooks/hook-chain.js'
import type { FrameConfig } from '../messages/dispatch.js'
import type { Metrics } from './connection.js'
import type { FastifyBaseLogger } from 'fastify'
import type { ConnectionContext, WebSocketResource } from '../resources/resource.js'
import { ClientError, errorFrame } from '../messages/wire-errors.js'
import { CloseCode } from './close-codes.js'
import { takeAnswer } from '../contract/requests.js'
import { kRequests } from '../symbols.js'
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
  createResources (context: SessionContext): WebSocketResource[] | Promise<WebSocketResource[]>
  tableFor (resource: WebSocketResource): DispatchTable
  connect (resources: WebSocketResource[], context: SessionContext): ConnectOutcome | Promise<ConnectOutcome>
  disconnect (resources: WebSocketResource[], context: SessionContext, code: number, reason: string): Promise<void>
  release (context: SessionContext): void
  log (context: SessionContext): FastifyBaseLogger
}

/** Frames waiting beyond these pause the socket, so a flood waits in TCP rather than in memory. */
const PAUSE_FRAMES = 1024
const PAUSE_BYTES = 4 * 1024 * 1024

/** A queued binary frame; text frames are queued as bare Buffers. */
class BinaryFrame {
  constructor (readonly data: Buffer) {}
}

export class Session {
  private phase = CONNECTING
  private resources: WebSocketResource[] = []
  private leaf: WebSocketResource | undefined
  private table: DispatchTable | undefined
  private inFlight = 0
  /** How many messages may run at once (the resource's `static concurrency`). */
  private limit = 1
  private queue: Array<Buffer | BinaryFrame> | undefined
  private head = 0
  private queuedBytes = 0
  private paused = false
  private closed: { code: number, reason: string } | undefined
  private readonly bucket: TokenBucket | undefined

  constructor (
    private readonly route: SessionHost,
    private readonly context: SessionContext,
    private readonly socket: WebSocket
  ) {
    this.bucket = route.rateLimit?.bucket(Date.now())
    socket.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary))
    socket.on('close', (code: number, reason: Buffer) => this.onClose(code, reason.toString()))
    socket.on('error', (err: Error & { code?: string }) => this.onSocketError(err))
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
      this.leaf = this.resources[this.resources.length - 1]
      this.table = route.tableFor(this.leaf)
      this.limit = this.table.concurrency
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
    if (this.phase === OPEN && this.queue === undefined && this.inFlight < this.limit) {
      this.run(data, isBinary)
      return
    }
    if (this.phase === REFUSED) return
    const queue = this.queue ??= []
    queue.push(isBinary ? new BinaryFrame(data) : data)
    this.queuedBytes += data.length
    if (!this.paused && (queue.length - this.head > PAUSE_FRAMES || this.queuedBytes > PAUSE_BYTES)) {
      this.paused = true
      this.socket.pause()
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
    const pending = dispatchFrame(this.leaf as WebSocketResource, this.table as DispatchTable, data, isBinary, this.route.frames, this.context.hooks)
    if (pending === undefined) return
    this.inFlight++
    void pending.then(this.settled)
  }

  private readonly settled = (): void => {
    this.inFlight--
    this.drain()
  }

  /** Runs queued frames while the concurrency allows; ends the session once a close has been seen and nothing is left. */
  private drain (): void {
    const limit = this.limit
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
      if (this.paused && (this.queue === undefined || this.queue.length - this.head < PAUSE_FRAMES / 2)) {
        this.paused = false
        this.socket.resume()
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
