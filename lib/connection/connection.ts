import type { Duplex } from 'node:stream'
import type { WebSocketLike as WebSocket } from './websocket-like.js'
import { ERR_MESSAGE_NOT_SERIALIZABLE, ERR_OPTION_INVALID } from '../errors.js'
import { kCorked, kExpiresAt, kLabels, kRefresher, kRequests, kRooms, kTransport, kUser, kWire, kWrite } from '../symbols.js'
import type { ExpiryWheel } from '../credentials/expiry-wheel.js'
import type { OutgoingMode } from '../contract/outgoing.js'
import { request, type PendingRequests } from '../contract/requests.js'
import type { WireNames } from '../contract/wire.js'
import { checkCloseCode, closeReason, CloseCode } from './close-codes.js'
import type { Corkable, WriteCoalescer } from './write-coalescer.js'

/** What happens to a message for a connection whose send buffer is over the high-water mark. */
export type BackpressurePolicy = 'drop' | 'close' | 'wait'

/** Counters shared by every connection of a manager; read them with `app.ws.metrics`. */
export interface Metrics {
  connectionsOpened: number
  connectionsClosed: number
  messagesIn: number
  messagesOut: number
  messagesDropped: number
  slowConsumersClosed: number
  /** Messages refused by a rate limit (not dispatched). */
  messagesLimited: number
  /** Connections closed with 1008 for going on over their rate limit. */
  rateLimitCloses: number
  /** Times a connection's socket was paused because its inbound queue hit `inboundQueue` limits. */
  inboundPaused: number
  /** Upgrades refused before they happened: origin, limits, revocation (HTTP 403, 429, 503). */
  upgradesRefused: number
  /** Refresh requests answered with a valid credential. */
  credentialsRefreshed: number
  /** Connections closed with 4401: their credential expired and was not refreshed in time. */
  credentialsExpired: number
  /** Connections closed with 4403 by `app.ws.revoke` or because their subject was revoked. */
  connectionsRevoked: number
}

/** A fresh set of counters, all zero. */
export function newMetrics (): Metrics {
  return {
    connectionsOpened: 0,
    connectionsClosed: 0,
    messagesIn: 0,
    messagesOut: 0,
    messagesDropped: 0,
    slowConsumersClosed: 0,
    messagesLimited: 0,
    rateLimitCloses: 0,
    inboundPaused: 0,
    upgradesRefused: 0,
    credentialsRefreshed: 0,
    credentialsExpired: 0,
    connectionsRevoked: 0
  }
}

/** What answers a connection's `refresh`: a new expiry (Date or epoch ms) accepts the credential, anything else refuses it. */
export interface Refresher {
  /** Gets the client's answer to `refresh`; returns the new expiry to keep the connection. */
  onRefresh (credential: unknown): unknown
}

/** Settings every connection of a manager shares (one object, not one per connection). */
export interface ConnectionSettings {
  highWaterMark: number
  policy: BackpressurePolicy
  sendTimeoutMs: number
  metrics: Metrics
  /** Set when the user registered @fastify/websocket: see `closeGoingAwayWhenBare`. */
  userWebsocket: boolean
  /** What a message that does not match `static emits` (or a reply its schema) does. */
  validateOutgoing: OutgoingMode
  /** How long `request()` waits for a client's reply unless told otherwise. */
  requestTimeoutMs: number
  /** Holds each connection's writes until the end of the turn, or for `flushDelayMs`. */
  coalescer: WriteCoalescer
  /** Frames and bytes a connection may queue while its handlers run before its socket is paused. */
  inbound: { maxFrames: number, maxBytes: number }
  /** Where connections wait for their credential to expire (absent in simulations: nothing expires there). */
  expiry?: ExpiryWheel<Connection>
}

const OPEN = 1
const TEXT = { binary: false }
const BINARY = { binary: true }

/**
 * One live WebSocket: what a resource sees as `this.connection` and what
 * `app.ws` hands out. Sends are synchronous, coalesced per tick, and subject to
 * the backpressure policy; they return false when the message was not written.
 */
export class Connection implements Corkable {
  /** Unique across every node of the cluster; not guessable. */
  readonly id: string
  /** The underlying `ws` socket, for what this class does not cover. */
  readonly socket: WebSocket;
  [kCorked]: boolean
  readonly [kTransport]: Duplex;
  [kRooms]: Set<string> | undefined;
  [kLabels]: Set<string> | undefined;
  [kUser]: string | undefined;
  [kRequests]: PendingRequests | undefined;
  [kWire]: WireNames | undefined;
  [kExpiresAt]: number | undefined;
  [kRefresher]: Refresher | undefined
  private readonly settings: ConnectionSettings

  constructor (id: string, socket: WebSocket, settings: ConnectionSettings) {
    this.id = id
    this.socket = socket
    this.settings = settings
    this[kCorked] = false
    this[kUser] = undefined
    this[kRooms] = undefined
    this[kLabels] = undefined
    this[kRequests] = undefined
    this[kWire] = undefined
    this[kExpiresAt] = undefined
    this[kRefresher] = undefined
    // `ws` keeps the transport it upgraded in `_socket`; corking it is how writes coalesce
    this[kTransport] = (socket as unknown as { _socket: Duplex })._socket
    if (settings.userWebsocket) socket.close = closeGoingAwayWhenBare
  }

  /** True while messages can still be sent. */
  get isOpen (): boolean {
    return this.socket.readyState === OPEN
  }

  /** Bytes written to this connection that the client has not taken yet. */
  get bufferedAmount (): number {
    return this.socket.bufferedAmount
  }

  /** The subprotocol agreed in the handshake (the route's `subprotocols` option), or '' when none. */
  get protocol (): string {
    return this.socket.protocol
  }

  /** The rooms this connection is in on this node. */
  get rooms (): ReadonlySet<string> {
    return this[kRooms] ?? EMPTY
  }

  /** The user this connection is identified as (`identify()`), if any. */
  get user (): string | undefined {
    return this[kUser]
  }

  /** The labels this connection carries (`app.ws.label`). */
  get labels (): ReadonlySet<string> {
    return this[kLabels] ?? EMPTY
  }

  /**
   * When the connection's credential expires: then it is sent a `refresh`
   * request, and closed with 4401 unless a valid credential comes back within
   * the grace period. Set it (a Date, or undefined for never) when you know it.
   * @example this.connection.expiresAt = new Date(token.exp * 1000)
   */
  get expiresAt (): Date | undefined {
    const at = this[kExpiresAt]
    return at === undefined ? undefined : new Date(at)
  }

  set expiresAt (value: Date | undefined) {
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new ERR_OPTION_INVALID('connection.expiresAt', 'must be a valid Date, or undefined for a credential that does not expire')
    }
    const at = value?.getTime()
    this[kExpiresAt] = at
    if (this.isOpen) this.settings.expiry?.schedule(this, at)
  }

  /** Serialises `message` as JSON and sends it; false if closed or held back by backpressure. */
  send (message: unknown): boolean {
    if (this.socket.readyState !== OPEN) return false
    return this[kWrite](serialize(message), false)
  }

  /**
   * Sends `message` with a fresh ref and resolves with the payload of the
   * client's `reply`; rejects with `FST_PACHINKO_REQUEST_TIMEOUT`,
   * `FST_PACHINKO_REQUEST_CLOSED` or, when the client answers with an error
   * frame, `FST_PACHINKO_REQUEST_FAILED`.
   * @example const answer = await this.connection.request({ type: 'confirm', payload: { text: 'Leave?' } }, { timeoutMs: 5000 })
   */
  async request<T = unknown> (message: object, options: { timeoutMs?: number } = {}): Promise<T> {
    return await request(this, message, options.timeoutMs ?? this.settings.requestTimeoutMs) as T
  }

  /** Sends a string as a text frame, or a Buffer as a binary frame unless `{ binary: false }`. */
  sendRaw (data: string | Buffer, options: { binary?: boolean } = {}): boolean {
    if (this.socket.readyState !== OPEN) return false
    return this[kWrite](data, options.binary ?? typeof data !== 'string')
  }

  /** Sends an already-encoded frame; the broadcast path, where one Buffer serves every recipient. */
  [kWrite] (data: string | Buffer, binary: boolean): boolean {
    const socket = this.socket
    if (socket.readyState !== OPEN) return false
    // the transport's write buffer, read directly: ws's bufferedAmount getter costs more per recipient of a broadcast
    if (this[kTransport].writableLength > this.settings.highWaterMark) return this.overflow()
    this.settings.coalescer.cork(this)
    socket.send(data, binary ? BINARY : TEXT)
    this.settings.metrics.messagesOut++
    return true
  }

  /**
   * Starts the closing handshake; the reason is cut to the protocol's 123 bytes.
   * A code no close frame may carry throws `FST_PACHINKO_CLOSE_CODE_INVALID` (and nothing is closed).
   */
  close (code: number = CloseCode.NORMAL, reason = ''): void {
    this.socket.close(checkCloseCode(code, 'connection.close'), closeReason(reason))
  }

  /** Destroys the transport at once, without a closing handshake. */
  terminate (): void {
    this.socket.terminate()
  }

  private overflow (): false {
    const { metrics, policy } = this.settings
    metrics.messagesDropped++
    if (policy === 'close') {
      metrics.slowConsumersClosed++
      this.close(CloseCode.TRY_AGAIN_LATER, 'send buffer full')
    }
    return false
  }
}

const EMPTY: ReadonlySet<string> = new Set()

/** JSON-encodes a message, turning a circular or BigInt value into a coded error. */
export function serialize (message: unknown): string {
  try {
    const json = JSON.stringify(message)
    if (json === undefined) throw new TypeError(`${typeof message} has no JSON form`)
    return json
  } catch (err) {
    throw new ERR_MESSAGE_NOT_SERIALIZABLE((err as Error).message, { cause: err })
  }
}

type ClosingSocket = WebSocket & { _closeFrameReceived: boolean }

/*
 * A @fastify/websocket the user registered adds its preClose before ours, and
 * it closes every client with a bare close(), which sends no code (1005). On
 * our sockets a bare close that is not the echo of the peer's own close frame
 * becomes the 1001 "going away" the server means.
 */
function closeGoingAwayWhenBare (this: ClosingSocket, code?: number, reason?: string | Buffer): void {
  const close = Object.getPrototypeOf(this).close as WebSocket['close']
  if (code === undefined && !this._closeFrameReceived) close.call(this, CloseCode.GOING_AWAY, 'server shutting down')
  else close.call(this, code, reason)
}
