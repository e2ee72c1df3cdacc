import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { Static, TSchema } from 'typebox'
import type { Connection } from '../connection/connection.js'
import type { ConnectionScope } from './container.js'
import type { ConnectionManager } from '../manager/connection-manager.js'
import type { SendOptions } from '../manager/send-options.js'
import { kContext, kSettings } from '../symbols.js'
import { CloseCode } from '../connection/close-codes.js'
import { ClientError, errorFrame, WireErrorCode, type ErrorBody, type ValidationIssue } from '../messages/wire-errors.js'
import { checkOutgoing, type OutgoingMode } from '../contract/outgoing.js'
import { refOf } from '../contract/wire.js'
import type { JoinOptions, Recovery } from '../manager/history-ops.js'

/** Why a frame reached `onUnhandled`. */
export interface UnhandledFrame extends ErrorBody {
  code: 'BAD_JSON' | 'BAD_MESSAGE' | 'UNKNOWN_TYPE' | 'UNSUPPORTED_DATA'
  /** The parsed message, when the frame was JSON. */
  parsed?: unknown
}

/** What one connection's resources share: made by the route, one per connection. */
export interface ConnectionContext {
  readonly connection: Connection
  readonly request: FastifyRequest
  readonly manager: ConnectionManager
  readonly discriminator: string
  /** The field that carries a request's ref on this route. */
  readonly replyField: string
  readonly routePath: string
  params: Record<string, string>
  /** Holds the connection's state; nested resources share the box unless their parent gave them another. */
  box: { state: object | undefined }
  log: FastifyBaseLogger | undefined
  /** This connection's DI scope, made on first use. */
  scope: ConnectionScope | undefined
  /** For a nested resource: the resource it is nested in. */
  parent: WebSocketResource | undefined
}

let constructing: ConnectionContext | undefined

/** Runs `make` with `context` visible to the WebSocketResource constructor, so subclass constructors can read `this.params`. */
export function withConstructionContext<T> (context: ConnectionContext, make: () => T): T {
  const previous = constructing
  constructing = context
  try {
    return make()
  } finally {
    constructing = previous
  }
}

/** Gives an instance its connection (idempotent); for instances a factory made outside `withConstructionContext`. */
export function bindResource (resource: WebSocketResource, context: ConnectionContext): void {
  if (resource[kContext] === context) return
  resource[kContext] = context
  resource.params = context.params
  resource.request = context.request
  resource.connection = context.connection
}

/** The connection's child logger (`{ connId, route }`), made on first use. */
export function connectionLog (context: ConnectionContext): FastifyBaseLogger {
  context.log ??= context.request.log.child({ connId: context.connection.id, route: context.routePath })
  return context.log
}

/** What `send`/`broadcast` accept: every message, or with an `Emits` type parameter, only the messages `static emits` declares. */
export type Outgoing<Emits extends TSchema> = TSchema extends Emits ? unknown : Static<Emits>

/** The `validateOutgoing` mode a resource's connection runs with (the one place that reads it from the manager). */
export function outgoingModeOf (resource: WebSocketResource<object, object, TSchema>): OutgoingMode {
  return resource[kContext].manager[kSettings].validateOutgoing
}

/**
 * The base of every resource: one instance per connection, holding that
 * connection's state. Override the lifecycle methods you need; bind message
 * handlers with `@handlesMessage(tag)` or name them `on<PascalTag>`.
 * The third type parameter, `typeof Emits`, types `send` and `broadcast` against
 * what `static emits = Emits` declares.
 * @example
 * class Echo extends WebSocketResource {
 *   onEcho (msg: { type: 'echo', payload: unknown }) { this.send(msg) }
 * }
 */
export class WebSocketResource<Params extends object = Record<string, string>, State extends object = Record<string, unknown>, Emits extends TSchema = TSchema> {
  /** The route's path parameters. */
  params!: Params
  /** The HTTP upgrade request, after the route's Fastify hooks ran. */
  request!: FastifyRequest
  /** This connection: id, send, close. */
  connection!: Connection;
  [kContext]!: ConnectionContext

  /** Runs once the socket is open; frames arriving meanwhile wait. `false` or a throw refuses the connection (close 1008). */
  onConnect? (): boolean | void | Promise<boolean | void>
  /** Runs once after the socket closed, when every message received before has been handled. */
  onDisconnect? (code: number, reason: string): void | Promise<void>
  /**
   * The client's answer to a `refresh` request, sent when `connection.expiresAt` passed:
   * return the new credential's expiry (a Date in the future) to keep the connection; anything else closes it with 4401.
   */
  onRefresh? (credential: unknown): Date | number | false | undefined | Promise<Date | number | false | undefined>
  /** On a parent of nested resources: what a child's constructor receives first (an object with `state` gives the child its own state). */
  getChildContext? (): unknown

  constructor () {
    if (constructing !== undefined) bindResource(this as unknown as WebSocketResource, constructing)
  }

  /** The connection manager (`app.ws`). */
  get ws (): ConnectionManager {
    return this[kContext].manager
  }

  /** The Fastify instance (encapsulation context) the route was declared in. */
  get app (): FastifyInstance {
    return this.request.server
  }

  /** A child logger bound to this connection's id and route, made on first use. */
  get log (): FastifyBaseLogger {
    return connectionLog(this[kContext])
  }

  /** Per-connection state: a plain object made on first use, shared with nested resources; assign to swap in a store. */
  get state (): State {
    const box = this[kContext].box
    return (box.state ??= {}) as State
  }

  set state (value: State) {
    this[kContext].box.state = value
  }

  /** For a nested resource: the resource it is nested in (cast it to the parent's class). */
  get parent (): WebSocketResource | undefined {
    return this[kContext].parent
  }

  /** Sends a JSON message to this connection; false if it is closed or held back by backpressure. */
  send (message: Outgoing<Emits>): boolean {
    const context = this[kContext]
    checkOutgoing(this.constructor, context.manager[kSettings].validateOutgoing, context.discriminator, message, () => this.log)
    return this.connection.send(message)
  }

  /** Sends the one error-frame shape to this connection; given the message it answers, the frame carries that message's ref. */
  sendError (error: ErrorBody, inReplyTo?: Record<string, unknown>): boolean {
    const { discriminator, replyField } = this[kContext]
    return this.connection.send(errorFrame(discriminator, error, replyField, refOf(inReplyTo, replyField)))
  }

  /** Closes this connection. */
  close (code: number = CloseCode.NORMAL, reason = ''): void {
    this.connection.close(code, reason)
  }

  /**
   * Joins a room (left automatically on disconnect). With `{ since }`, in a room that keeps
   * history, this connection first gets what it missed since that position, in order.
   * @example const { recovered, position } = await this.join(`chat:${this.params.room}`, { since })
   */
  join (room: string): Promise<void>
  join (room: string, options: JoinOptions): Promise<Recovery>
  async join (room: string, options?: JoinOptions): Promise<Recovery | void> {
    if (options === undefined) return await this.ws.joinRoom(this.connection, room)
    return await this.ws.joinRoom(this.connection, room, options)
  }

  /** Leaves a room. */
  async leave (room: string): Promise<void> {
    await this.ws.leaveRoom(this.connection, room)
  }

  /** Associates this connection with a user id, for `app.ws.sendToUser`; `expiresAt` is when its credential expires (see `onRefresh`). */
  async identify (user: string | undefined, options: { expiresAt?: Date } = {}): Promise<void> {
    await this.ws.identify(this.connection, user, options)
  }

  /** Broadcasts to a room on every node; `excludeSelf` leaves this connection out. */
  async broadcast (room: string, message: Outgoing<Emits>, options: SendOptions & { excludeSelf?: boolean } = {}): Promise<void> {
    const context = this[kContext]
    checkOutgoing(this.constructor, context.manager[kSettings].validateOutgoing, context.discriminator, message, () => this.log)
    const { excludeSelf, ...rest } = options
    if (excludeSelf === true) rest.exclude = rest.exclude === undefined ? this.connection : [this.connection, ...toArray(rest.exclude)]
    await this.ws.broadcastToRoom(room, message, rest)
  }

  /** A frame no handler takes: bad JSON, a non-object, an unknown tag, binary data. Default: an error frame. */
  onUnhandled (raw: string | Buffer, frame: UnhandledFrame): unknown {
    this.log.debug({ code: frame.code, tag: frame.tag }, 'unhandled frame')
    return this.sendError({ code: frame.code, message: frame.message, tag: frame.tag }, asMessage(frame.parsed))
  }

  /** A message its schema refuses. Default: a VALIDATION error frame listing the issues; the connection stays open. */
  onValidationError (issues: ValidationIssue[], message: Record<string, unknown>, tag: string): unknown {
    this.log.debug({ tag, issues }, 'message failed validation')
    return this.sendError({ code: WireErrorCode.VALIDATION, message: `message "${tag}" does not match its schema`, tag, issues }, message)
  }

  /**
   * A handler threw or rejected. Default: a ClientError goes to the client as
   * it is (closing if it asks to); anything else is logged and the client gets
   * INTERNAL, without details.
   */
  onError (error: unknown, message: Record<string, unknown> | undefined): unknown {
    const tag = message === undefined ? undefined : message[this[kContext].discriminator] as string
    if (error instanceof ClientError) {
      this.log.info({ code: error.code, tag }, error.message)
      this.sendError({ code: error.code, message: error.message, tag, issues: error.issues }, message)
      if (error.close !== undefined) this.close(error.close, error.message)
      return
    }
    this.log.error({ err: error, tag }, 'message handler failed')
    return this.sendError({ code: WireErrorCode.INTERNAL, message: 'internal server error', tag }, message)
  }
}

function asMessage (parsed: unknown): Record<string, unknown> | undefined {
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as Record<string, unknown> : undefined
}

function toArray<T> (value: T | Iterable<T>): T[] {
  return typeof value === 'string' || !(Symbol.iterator in Object(value)) ? [value as T] : [...(value as Iterable<T>)]
}
