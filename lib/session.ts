import type { WebSocket } from 'ws'
import type { Connection } from './connection.js'
import { dispatchFrame } from './dispatch.js'
import type { DispatchTable } from './metadata.js'
import type { ConnectionContext, WebSocketResource } from './resource.js'
import type { ConnectOutcome, RouteRuntime } from './route-runtime.js'
import { ClientError, CloseCode, errorFrame } from './wire-errors.js'

/*
 * One connection's life: open → onConnect (frames wait) → messages, one at a
 * time in arrival order (or `static concurrency` at a time) → close → the
 * messages received before the close → onDisconnect → unregistered.
 */

const CONNECTING = 0
const OPEN = 1
const REFUSED = 2
const ENDED = 3

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

  constructor (
    private readonly route: RouteRuntime,
    private readonly context: ConnectionContext,
    private readonly socket: WebSocket
  ) {
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
