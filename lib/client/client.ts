import { backoffDelay, isFinalClose, type ReconnectOptions } from './backoff.js'
import { ClientRequestError, type ErrorFrameBody } from './request-error.js'
import type { ClientPayload, ClientTag, PayloadArgs, ReplyPayload, ServerPayload, ServerTag } from './contract-types.js'
import { Resume, type ClientPosition, type ResumeOptions } from './resume.js'

/*
 * The typed client: one WebSocket to one route, reconnecting on its own.
 * Messages sent while it is not open wait in a bounded queue; requests carry
 * a ref and settle with the reply or error frame that carries it back; the
 * server's own requests are answered by `onRequest` handlers. It uses only
 * the standard WebSocket interface, so it runs in browsers and in Node.
 */

/** The WebSocket interface the client needs: the browser's, Node's global one, or `ws`. */
export interface WebSocketLike {
  readonly readyState: number
  readonly protocol: string
  /** Set by the client: the socket opened. */
  onopen: ((event: unknown) => void) | null
  /** Set by the client: a frame arrived (text as a string). */
  onmessage: ((event: { data: unknown }) => void) | null
  /** Set by the client: the socket closed, with the close frame's code and reason. */
  onclose: ((event: { code: number, reason: string }) => void) | null
  /** Set by the client: a socket error (a close follows). */
  onerror: ((event: unknown) => void) | null
  /** Sends a text frame. */
  send (data: string): void
  /** Closes the socket. */
  close (code?: number, reason?: string): void
}

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/** Where the client is: `connecting` (first attempt), `open`, `reconnecting` (waiting or retrying), `closed` (for good). */
export type ClientStatus = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** A status change, with the close that caused it. */
export interface StatusEvent {
  status: ClientStatus
  code?: number
  reason?: string
  /** For `reconnecting`: how long until the next attempt, ms. */
  delayMs?: number
}

/** Options of `connectClient()`. */
export interface ClientOptions {
  /** The WebSocket constructor (pass `WebSocket` from `ws` on Node without a global one). @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor
  /** Subprotocols to offer, most preferred first. */
  protocols?: string | string[]
  /** @default 'type' */
  discriminator?: string
  /** @default 'ref' */
  replyField?: string
  /** Reconnect settings, or false to never reconnect. @default { initialDelayMs: 250, maxDelayMs: 10000, maxAttempts: Infinity } */
  reconnect?: false | ReconnectOptions
  /** Messages kept while not connected; past it, `send` returns false and `request` rejects with QUEUE_FULL. @default 100 */
  queueLimit?: number
  /** @default 10000 */
  requestTimeoutMs?: number
  /** Which close codes end the client instead of reconnecting. @default isFinalClose: 1000, 1008, 4000–4999 */
  isFinal?: (code: number) => boolean
  /** Reconnect with the position of the last broadcast from a room with history, as `?offset=&epoch=` (or the names given): see docs/history.md. */
  resume?: boolean | ResumeOptions
}

/** Options of one request. */
export interface RequestOptions {
  /** @default the client's requestTimeoutMs */
  timeoutMs?: number
}

/** `request(tag, payload, options?)`; the payload may be left out (or undefined) for a message without one. */
export type RequestArgs<P> = unknown extends P
  ? [payload?: unknown, options?: RequestOptions]
  : [P] extends [undefined] ? [payload?: undefined, options?: RequestOptions] : [payload: P, options?: RequestOptions]

type Frame = Record<string, unknown>
interface Pending { resolve: (payload: unknown) => void, reject: (error: Error) => void, timer: ReturnType<typeof setTimeout> }
const OPEN = 1

/** A connected, typed client; see `connectClient`. */
export class PachinkoClient<R = unknown, D extends string = 'type'> {
  private socket!: WebSocketLike
  private current: ClientStatus = 'connecting'
  private attempt = 0
  private nextRef = 1
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly queue: string[] = []
  private readonly pending = new Map<number, Pending>()
  private readonly listeners = new Map<string, Set<(payload: unknown, message: Frame) => void>>()
  private readonly responders = new Map<string, (payload: unknown, message: Frame) => unknown>()
  private readonly statusListeners = new Set<(event: StatusEvent) => void>()
  private readonly discriminator: string
  private readonly replyField: string
  private readonly reconnect: Required<ReconnectOptions> | false
  private readonly queueLimit: number
  private readonly timeoutMs: number
  private readonly isFinal: (code: number) => boolean
  private readonly Socket: WebSocketConstructor
  private readonly resume: Resume | undefined

  constructor (readonly url: string, private readonly options: ClientOptions = {}) {
    const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (Socket === undefined) throw new TypeError('connectClient: no global WebSocket here; pass { WebSocket } (for example from the ws package)')
    this.Socket = Socket
    this.discriminator = options.discriminator ?? 'type'
    this.replyField = options.replyField ?? 'ref'
    this.reconnect = options.reconnect === false ? false : { initialDelayMs: 250, maxDelayMs: 10000, maxAttempts: Infinity, ...options.reconnect }
    this.queueLimit = options.queueLimit ?? 100
    this.timeoutMs = options.requestTimeoutMs ?? 10000
    this.isFinal = options.isFinal ?? isFinalClose
    this.resume = options.resume === undefined || options.resume === false ? undefined : new Resume(options.resume)
    this.open()
  }

  /** Where the client is now. */
  get status (): ClientStatus {
    return this.current
  }

  /** With `resume`: the position of the last broadcast received from a room with history. */
  get position (): ClientPosition | undefined {
    return this.resume?.position
  }

  /** The subprotocol the server chose ('' when none, or not connected). */
  get protocol (): string {
    return this.socket.protocol
  }

  /** Sends a message; queued while not connected. False when the queue is full or the client is closed. */
  send<T extends ClientTag<R, D>> (tag: T, ...payload: PayloadArgs<ClientPayload<R, T, D>>): boolean {
    return this.write(this.frame(tag, payload[0], undefined))
  }

  /** Sends a request and resolves with the reply's payload; rejects with a ClientRequestError carrying the error frame's code. */
  async request<T extends ClientTag<R, D>> (tag: T, ...args: RequestArgs<ClientPayload<R, T, D>>): Promise<ReplyPayload<R, T>> {
    const [payload, options] = args as [unknown, RequestOptions | undefined]
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs
    const ref = this.nextRef++
    return await new Promise<ReplyPayload<R, T>>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(ref).reject(new ClientRequestError('TIMEOUT', `no reply to "${tag}" within ${timeoutMs} ms`)), timeoutMs)
      this.pending.set(ref, { resolve: resolve as (payload: unknown) => void, reject, timer })
      if (!this.write(this.frame(tag, payload, ref))) {
        this.settle(ref).reject(new ClientRequestError(this.current === 'closed' ? 'CLOSED' : 'QUEUE_FULL', `"${tag}" could not be sent: the client is ${this.current === 'closed' ? 'closed' : 'offline and its queue is full'}`))
      }
    })
  }

  /** Listens to messages of a tag (`'error'` for error frames that answer no request); returns the unsubscribe. */
  on<T extends ServerTag<R, D> | 'error'> (tag: T, listener: (payload: T extends 'error' ? ErrorFrameBody : ServerPayload<R, T, D>, message: Frame) => void): () => void {
    let set = this.listeners.get(tag)
    if (set === undefined) this.listeners.set(tag, set = new Set())
    const added = listener as (payload: unknown, message: Frame) => void
    set.add(added)
    return () => set.delete(added)
  }

  /** Answers the server's requests of a tag: the result (or resolved value) is the reply, a throw an error frame. */
  onRequest<T extends ServerTag<R, D>> (tag: T, responder: (payload: ServerPayload<R, T, D>, message: Frame) => unknown): () => void {
    this.responders.set(tag, responder as (payload: unknown, message: Frame) => unknown)
    return () => this.responders.delete(tag)
  }

  /** Listens to status changes; returns the unsubscribe. */
  onStatus (listener: (event: StatusEvent) => void): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  /** Closes for good: no reconnect; queued messages are dropped and pending requests reject with CLOSED. */
  close (code = 1000, reason = ''): void {
    if (this.current === 'closed') return
    clearTimeout(this.timer)
    const socket = this.socket
    this.finish({ status: 'closed', code, reason })
    if (socket.readyState <= OPEN) socket.close(code, reason)
  }

  private open (): void {
    const socket = new this.Socket(this.resume?.url(this.url) ?? this.url, this.options.protocols)
    this.socket = socket
    socket.onopen = () => {
      this.attempt = 0
      this.emitStatus({ status: 'open' })
      // the queue empties in order, and may refill if the socket closes meanwhile
      for (const frame of this.queue.splice(0)) socket.send(frame)
    }
    socket.onmessage = (event) => this.receive(event.data)
    socket.onerror = () => {} // a close event always follows, with the code that matters
    socket.onclose = (event) => this.closed(socket, event.code, event.reason)
  }

  private closed (socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.socket || this.current === 'closed') return
    this.failPending('CLOSED', `the connection closed (${code}) before the reply arrived`)
    const reconnect = this.reconnect
    if (this.isFinal(code) || reconnect === false || this.attempt >= reconnect.maxAttempts) return this.finish({ status: 'closed', code, reason })
    const delayMs = backoffDelay(this.attempt++, reconnect)
    this.emitStatus({ status: 'reconnecting', code, reason, delayMs })
    this.timer = setTimeout(() => this.open(), delayMs)
  }

  private finish (event: StatusEvent): void {
    this.queue.length = 0
    this.failPending('CLOSED', 'the client is closed')
    this.emitStatus(event)
  }

  private receive (data: unknown): void {
    let message: unknown
    try {
      message = JSON.parse(String(data))
    } catch {
      return
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return
    const frame = message as Frame
    const tag = frame[this.discriminator]
    const ref = frame[this.replyField]
    if (typeof tag !== 'string') return
    this.resume?.observe(frame)
    if ((tag === 'reply' || tag === 'error') && typeof ref === 'number' && this.pending.has(ref)) {
      const waiter = this.settle(ref)
      if (tag === 'reply') return waiter.resolve(frame.payload)
      const body = frame.error as Partial<ErrorFrameBody> | undefined
      return waiter.reject(new ClientRequestError(String(body?.code ?? 'UNKNOWN'), String(body?.message ?? 'no message'), body?.issues))
    }
    if (ref !== undefined && ref !== null && tag !== 'reply' && tag !== 'error') this.answer(tag, ref, frame)
    const payload = tag === 'error' ? frame.error : frame.payload
    for (const listener of [...this.listeners.get(tag) ?? []]) listener(payload, frame)
  }

  /** Answers a server request with its responder's result, or an error frame. */
  private answer (tag: string, ref: unknown, frame: Frame): void {
    const responder = this.responders.get(tag)
    const reply = (payload: unknown): void => { this.write(JSON.stringify({ [this.discriminator]: 'reply', [this.replyField]: ref, payload })) }
    const fail = (code: string, message: string): void => {
      this.write(JSON.stringify({ [this.discriminator]: 'error', [this.replyField]: ref, error: { code, message } }))
    }
    if (responder === undefined) return fail('UNKNOWN_TYPE', `no onRequest handler for "${tag}"`)
    const failed = (err: unknown): void => {
      const code = (err as { code?: unknown } | null)?.code
      fail(typeof code === 'string' ? code : 'CLIENT_ERROR', err instanceof Error ? err.message : String(err))
    }
    try {
      Promise.resolve(responder(frame.payload, frame)).then(reply, failed)
    } catch (err) {
      failed(err)
    }
  }

  private frame (tag: string, payload: unknown, ref: number | undefined): string {
    const frame: Frame = { [this.discriminator]: tag }
    if (ref !== undefined) frame[this.replyField] = ref
    if (payload !== undefined) frame.payload = payload
    return JSON.stringify(frame)
  }

  private write (frame: string): boolean {
    if (this.current === 'closed') return false
    if (this.socket?.readyState === OPEN) {
      this.socket.send(frame)
      return true
    }
    if (this.queue.length >= this.queueLimit) return false
    this.queue.push(frame)
    return true
  }

  /** Takes a request's waiter; callers know it is there (a settled request's timer is cleared). */
  private settle (ref: number): Pending {
    const waiter = this.pending.get(ref) as Pending
    this.pending.delete(ref)
    clearTimeout(waiter.timer)
    return waiter
  }

  private failPending (code: string, message: string): void {
    for (const ref of [...this.pending.keys()]) this.settle(ref).reject(new ClientRequestError(code, message))
  }

  private emitStatus (event: StatusEvent): void {
    this.current = event.status
    for (const listener of [...this.statusListeners]) listener(event)
  }
}
